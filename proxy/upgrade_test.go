package proxy

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// A minimal WebSocket (RFC 6455) for the tests: one unfragmented frame per
// message, masked from the client, as the standard library has no
// WebSocket of its own.

const (
	wsText  = 0x1
	wsClose = 0x8
)

func wsAccept(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}

func wsWrite(w io.Writer, masked bool, op byte, payload []byte) error {
	head := []byte{0x80 | op, 0}
	switch n := len(payload); {
	case n < 126:
		head[1] = byte(n)
	case n < 1<<16:
		head[1] = 126
		head = binary.BigEndian.AppendUint16(head, uint16(n))
	default:
		head[1] = 127
		head = binary.BigEndian.AppendUint64(head, uint64(n))
	}
	body := append([]byte(nil), payload...)
	if masked {
		head[1] |= 0x80
		key := [4]byte{1, 2, 3, 4}
		head = append(head, key[:]...)
		for i := range body {
			body[i] ^= key[i%4]
		}
	}
	_, err := w.Write(append(head, body...))
	return err
}

func wsRead(r io.Reader) (byte, []byte, error) {
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, nil, err
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return 0, nil, err
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return 0, nil, err
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	var key [4]byte
	if h[1]&0x80 != 0 {
		if _, err := io.ReadFull(r, key[:]); err != nil {
			return 0, nil, err
		}
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		return 0, nil, err
	}
	if h[1]&0x80 != 0 {
		for i := range payload {
			payload[i] ^= key[i%4]
		}
	}
	return h[0] & 0x0f, payload, nil
}

// wsUpstream is a WebSocket echo server at /v1/realtime. It answers each
// text message with "echo: " and the message, closes the connection when
// told "close-from-upstream", and reports what reached it.
type wsUpstream struct {
	requests chan *http.Request // the handshake as it reached the upstream
	ended    chan string        // why each connection ended: "client closed" or "upstream closed"
}

func newWSUpstream(t *testing.T) (*wsUpstream, *httptest.Server) {
	u := &wsUpstream{requests: make(chan *http.Request, 4), ended: make(chan string, 4)}
	ts := httptest.NewServer(http.HandlerFunc(u.serve))
	t.Cleanup(ts.Close)
	return u, ts
}

func (u *wsUpstream) serve(w http.ResponseWriter, r *http.Request) {
	u.requests <- r.Clone(r.Context())
	if r.URL.Path != "/v1/realtime" || !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") || !isUpgrade(r.Header) {
		http.Error(w, `{"error":{"message":"not a websocket","type":"invalid_request_error"}}`, http.StatusBadRequest)
		return
	}
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	fmt.Fprintf(brw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\nX-Upstream: yes\r\n\r\n",
		wsAccept(r.Header.Get("Sec-WebSocket-Key")))
	brw.Flush()
	for {
		op, msg, err := wsRead(brw)
		if err != nil {
			u.ended <- "client closed"
			return
		}
		if op == wsClose || string(msg) == "close-from-upstream" {
			u.ended <- "upstream closed"
			return
		}
		if wsWrite(conn, false, wsText, append([]byte("echo: "), msg...)) != nil {
			u.ended <- "client closed"
			return
		}
	}
}

// dialWS opens a WebSocket to the proxy at target and returns the
// connection, a reader past the 101 and the 101 response.
func dialWS(t *testing.T, px *httptest.Server, target string) (net.Conn, *bufio.Reader, *http.Response) {
	t.Helper()
	conn, err := net.Dial("tcp", px.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second)) // a safety net, not an assertion
	const key = "dGhlIHNhbXBsZSBub25jZQ=="
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer client-token\r\n\r\n", target, key)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, &http.Request{Method: "GET"})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("status %d, want 101: %s", resp.StatusCode, b)
	}
	if got := resp.Header.Get("Sec-WebSocket-Accept"); got != wsAccept(key) {
		t.Fatalf("Sec-WebSocket-Accept %q, want %q", got, wsAccept(key))
	}
	return conn, br, resp
}

func wsProxy(t *testing.T, upURL string, idle time.Duration) *httptest.Server {
	return newProxy(t, upURL, func(c *testConfig) {
		c.Upstreams[0].APIKey = "sk-own"
		if idle > 0 {
			c.Timeouts.Idle = idle
		}
	})
}

func TestWebSocketMessagesPassBothWays(t *testing.T) {
	up, uts := newWSUpstream(t)
	px := wsProxy(t, uts.URL, 0)
	conn, br, resp := dialWS(t, px, "/v1/realtime?model=gpt-realtime")
	r := <-up.requests
	if got := r.URL.RequestURI(); got != "/v1/realtime?model=gpt-realtime" {
		t.Errorf("upstream got %s", got)
	}
	if got := r.Header.Get("Authorization"); got != "Bearer sk-own" {
		t.Errorf("upstream Authorization %q, want the upstream's own key", got)
	}
	if resp.Header.Get("X-Upstream") != "yes" {
		t.Errorf("the upstream's 101 headers were not relayed: %v", resp.Header)
	}
	for _, msg := range []string{"hello", strings.Repeat("x", 300), strings.Repeat("y", 70000), `{"type":"session.update"}`} {
		if err := wsWrite(conn, true, wsText, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		op, got, err := wsRead(br)
		if err != nil || op != wsText || string(got) != "echo: "+msg {
			t.Fatalf("echo of a %d-byte message: op %d, %d bytes, %v", len(msg), op, len(got), err)
		}
	}
	// The client closing its connection closes the upstream's.
	conn.Close()
	if why := <-up.ended; why != "client closed" {
		t.Fatalf("upstream connection ended with %q", why)
	}
}

func TestWebSocketUpstreamCloseClosesClient(t *testing.T) {
	up, uts := newWSUpstream(t)
	px := wsProxy(t, uts.URL, 0)
	conn, br, _ := dialWS(t, px, "/v1/realtime?model=gpt-realtime")
	<-up.requests
	if err := wsWrite(conn, true, wsText, []byte("close-from-upstream")); err != nil {
		t.Fatal(err)
	}
	if why := <-up.ended; why != "upstream closed" {
		t.Fatalf("upstream connection ended with %q", why)
	}
	if _, _, err := wsRead(br); !errors.Is(err, io.EOF) {
		t.Fatalf("client read after the upstream closed: %v, want EOF", err)
	}
}

func TestWebSocketIdleClosesBoth(t *testing.T) {
	up, uts := newWSUpstream(t)
	px := wsProxy(t, uts.URL, time.Second)
	conn, br, _ := dialWS(t, px, "/v1/realtime?model=gpt-realtime")
	<-up.requests
	// Traffic keeps it open past the idle timeout...
	for range 4 {
		time.Sleep(300 * time.Millisecond)
		if err := wsWrite(conn, true, wsText, []byte("ping")); err != nil {
			t.Fatal(err)
		}
		if _, got, err := wsRead(br); err != nil || string(got) != "echo: ping" {
			t.Fatalf("echo while active: %q %v", got, err)
		}
	}
	// ...silence closes both sides.
	if _, _, err := wsRead(br); !errors.Is(err, io.EOF) {
		t.Fatalf("client read on an idle connection: %v, want EOF", err)
	}
	if why := <-up.ended; why != "client closed" {
		t.Fatalf("upstream connection ended with %q", why)
	}
}

func TestUpgradeRefusedUpstreamRelayed(t *testing.T) {
	up, uts := newWSUpstream(t)
	px := wsProxy(t, uts.URL, 0)
	conn, err := net.Dial("tcp", px.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	fmt.Fprintf(conn, "GET /v1/other HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: x\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: "GET"})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "not a websocket") {
		t.Fatalf("status %d: %s; want the upstream's 400", resp.StatusCode, b)
	}
	<-up.requests
}
