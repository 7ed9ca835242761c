package proxy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"
)

// bodyReadsStarted wraps h so that started is told when a request's body is
// first read: by then the handler has sized its body buffer.
func bodyReadsStarted(h http.Handler, started chan<- struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = &firstRead{ReadCloser: r.Body, started: started}
		h.ServeHTTP(w, r)
	})
}

type firstRead struct {
	io.ReadCloser
	started chan<- struct{}
	once    sync.Once
}

func (f *firstRead) Read(p []byte) (int, error) {
	f.once.Do(func() { f.started <- struct{}{} })
	return f.ReadCloser.Read(p)
}

func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

func TestStalledBodiesCostLittleAndAreClosed(t *testing.T) {
	noLeaks(t)
	rec := &recorder{}
	up := httptest.NewServer(rec.handler(200, okChat))
	defer up.Close()
	cfg := defaultTestConfig()
	cfg.Upstreams = []Upstream{{Name: "test", BaseURL: up.URL + "/v1"}}
	cfg.Server.BodyTimeout = time.Second
	cfg.SetDefaults()
	s, err := New(&cfg.Config, Options{})
	if err != nil {
		t.Fatal(err)
	}
	const conns, announced = 16, 32 << 20
	started := make(chan struct{}, conns)
	px := httptest.NewServer(bodyReadsStarted(s.Handler(), started))
	defer px.Close()
	defer s.Close()

	before := liveHeap()
	var cs []net.Conn
	for i := range conns {
		path := "/v1/chat/completions"
		if i%2 == 1 {
			path = "/v1/embeddings" // passthrough reads its body too
		}
		c, err := net.Dial("tcp", px.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", path, announced)
		cs = append(cs, c)
	}
	for range conns {
		<-started
	}
	if grew := int64(liveHeap()) - int64(before); grew >= 16<<20 {
		t.Errorf("%d connections announcing %d bytes raised the heap by %d bytes, want < 16 MiB", conns, announced, grew)
	}
	for i, c := range cs {
		_ = c.SetReadDeadline(time.Now().Add(time.Minute)) // a safety net, not an assertion
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestTimeout {
			t.Fatalf("connection %d: status %d, want 408: %s", i, resp.StatusCode, b)
		}
		if e := decodeError(t, b); e.Error.Code == nil || *e.Error.Code != "request_timeout" {
			t.Errorf("connection %d: code %v, want request_timeout", i, e.Error.Code)
		}
		if n, err := br.Read(make([]byte, 1)); n != 0 || err != io.EOF {
			t.Errorf("connection %d still open after the 408 (read %d, %v)", i, n, err)
		}
	}
	if rec.calls != 0 {
		t.Errorf("upstream called %d times for stalled bodies", rec.calls)
	}
}

// TestBodyTimeoutSparesLongAnswers: the body deadline is cleared once the
// body is read, so an answer that takes longer than the body timeout is
// not cut.
func TestBodyTimeoutSparesLongAnswers(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		time.Sleep(600 * time.Millisecond)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, okChat)
	}))
	defer up.Close()
	px := newProxy(t, up.URL, func(c *testConfig) { c.Server.BodyTimeout = 200 * time.Millisecond })
	resp, b := post(t, px.URL+"/v1/chat/completions", `{"model":"m","messages":[]}`)
	if resp.StatusCode != 200 || string(b) != okChat {
		t.Fatalf("status %d, body %s; want 200 with the upstream's answer", resp.StatusCode, b)
	}
}

// TestSlowBodyRefreshesTimeout: a body whose pieces each arrive within the
// timeout is read whole, although it takes longer than the timeout.
func TestSlowBodyRefreshesTimeout(t *testing.T) {
	var calls atomic.Int32
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, okChat)
	}))
	defer up.Close()
	px := newProxy(t, up.URL, func(c *testConfig) { c.Server.BodyTimeout = 1500 * time.Millisecond })
	body := `{"model":"m","messages":[{"role":"user","content":"a slow body"}]}`
	pr, pw := io.Pipe()
	go func() {
		for _, piece := range []string{body[:10], body[10:30], body[30:]} {
			pw.Write([]byte(piece))
			time.Sleep(600 * time.Millisecond)
		}
		pw.Close()
	}()
	resp, err := http.Post(px.URL+"/v1/chat/completions", "application/json", pr)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || calls.Load() != 1 {
		t.Fatalf("status %d, upstream calls %d: %s", resp.StatusCode, calls.Load(), b)
	}
}

func TestGatherBody(t *testing.T) {
	chunk := bodyChunk
	for _, n := range []int{0, 1, initialBodyBuffer, initialBodyBuffer + 1, 2 * chunk, 5*initialBodyBuffer + 7} {
		want := strings.Repeat("x", n)
		for _, announced := range []int64{int64(n), -1} {
			got, err := gatherBody(iotest.OneByteReader(strings.NewReader(want)), announced)
			if err != nil || string(got) != want {
				t.Fatalf("n=%d announced=%d: got %d bytes, %v", n, announced, len(got), err)
			}
			if cap(got) != n {
				t.Errorf("n=%d announced=%d: buffer cap %d, want exactly the length", n, announced, cap(got))
			}
		}
	}
	for _, n := range []int64{10, 3 * initialBodyBuffer} {
		if _, err := gatherBody(strings.NewReader("short"), n); err != io.ErrUnexpectedEOF {
			t.Errorf("short body announcing %d: %v, want io.ErrUnexpectedEOF", n, err)
		}
	}
}
