package proxy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aligngate/aligngate/wire"
)

// isUpgrade reports whether a request asks to switch protocols
// (Connection: upgrade with an Upgrade header), as a WebSocket does. Only
// GET requests are switched (a WebSocket handshake is a GET): on a POST
// the headers are dropped as hop-by-hop, so a completion cannot dodge
// validation and correction by asking for an upgrade.
func isUpgrade(h http.Header) bool {
	if h.Get("Upgrade") == "" {
		return false
	}
	for _, v := range h["Connection"] {
		for _, tok := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(tok), "upgrade") {
				return true
			}
		}
	}
	return false
}

// upgrade proxies a protocol switch such as /v1/realtime's WebSocket: the
// request goes to the upstream its ?model= picks, with that upstream's key
// (or the client's token where it is forwarded), and once the upstream
// answers 101 both connections are copied until either side closes or
// neither sends anything for timeouts.idle; closing one closes the other.
// Any other answer is relayed as is.
func (s *Server) upgrade(in *inbound) {
	up := s.pick(in.req.URL.Query().Get("model"))
	ctx, cancel := context.WithCancel(in.ctx())
	defer cancel()
	c := s.callFor(in, up, nil)
	req, err := s.newUpstreamRequest(ctx, c)
	if err != nil {
		s.fail(in, err)
		return
	}
	want := in.req.Header.Get("Upgrade")
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", want)
	resp, err := s.transport.RoundTrip(req)
	if err != nil {
		s.fail(in, err)
		return
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		defer resp.Body.Close()
		copyHeader(in.w.Header(), resp.Header)
		in.w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(in.w, resp.Body)
		return
	}
	back, ok := resp.Body.(io.ReadWriteCloser)
	if !ok || !strings.EqualFold(resp.Header.Get("Upgrade"), want) {
		resp.Body.Close()
		s.logger.Warn("upstream switched protocols badly", "upstream", up.name, "upgrade", resp.Header.Get("Upgrade"))
		wire.NewError(http.StatusBadGateway, wire.TypeUpstream, "upstream_bad_upgrade",
			"The upstream did not switch to the requested protocol.").Write(in.w)
		return
	}
	defer back.Close()
	client, brw, err := http.NewResponseController(in.w).Hijack()
	if err != nil {
		s.logger.Warn("cannot take over the client connection for an upgrade", "err", err)
		wire.NewError(http.StatusInternalServerError, wire.TypeServer, "upgrade_unsupported",
			"This connection cannot switch protocols.").Write(in.w)
		return
	}
	defer client.Close()
	if err := writeSwitch(brw.Writer, resp.Header, want); err != nil {
		return
	}
	pipe(ctx, client, brw.Reader, back, s.cfg.Timeouts.Idle)
}

// writeSwitch writes the 101 answer to the hijacked client connection.
func writeSwitch(w *bufio.Writer, upstream http.Header, protocol string) error {
	h := http.Header{}
	copyHeader(h, upstream)
	h.Set("Connection", "Upgrade")
	h.Set("Upgrade", protocol)
	if _, err := io.WriteString(w, "HTTP/1.1 101 Switching Protocols\r\n"); err != nil {
		return fmt.Errorf("write 101: %w", err)
	}
	if err := h.Write(w); err != nil {
		return fmt.Errorf("write 101 headers: %w", err)
	}
	if _, err := io.WriteString(w, "\r\n"); err != nil {
		return fmt.Errorf("write 101: %w", err)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("write 101: %w", err)
	}
	return nil
}

// pipe copies both ways until one side ends, ctx is done or nothing moved
// for idle; then it closes both and waits for both copies to return.
func pipe(ctx context.Context, client net.Conn, fromClient io.Reader, back io.ReadWriteCloser, idle time.Duration) {
	var once sync.Once
	closeBoth := func() { once.Do(func() { client.Close(); back.Close() }) }
	timer := time.AfterFunc(idle, closeBoth)
	defer timer.Stop()
	done := make(chan struct{}, 2)
	relay := func(dst io.Writer, src io.Reader) {
		_, _ = io.Copy(dst, activeReader{src, timer, idle})
		done <- struct{}{}
	}
	go relay(back, fromClient)
	go relay(client, back)
	running := 2
	select {
	case <-done:
		running--
	case <-ctx.Done():
	}
	closeBoth()
	for ; running > 0; running-- {
		<-done
	}
}

// activeReader pushes the idle deadline back whenever bytes arrive.
type activeReader struct {
	r     io.Reader
	timer *time.Timer
	idle  time.Duration
}

func (a activeReader) Read(p []byte) (int, error) {
	n, err := a.r.Read(p)
	if n > 0 {
		a.timer.Reset(a.idle)
	}
	if errors.Is(err, net.ErrClosed) {
		err = io.EOF
	}
	return n, err
}
