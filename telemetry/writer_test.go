package telemetry

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
)

// streamingApp writes one SSE event, flushes, and writes the second only
// once the test says the client has seen the first.
func streamingApp(t *testing.T, release <-chan struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		Info(r.Context()).Stream = true
		w.Header().Set("Content-Type", "text/event-stream")
		f, ok := w.(http.Flusher)
		if !ok {
			t.Error("wrapped ResponseWriter is not an http.Flusher")
			return
		}
		_, _ = io.WriteString(w, "data: one\n\n")
		f.Flush()
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		_, _ = io.WriteString(w, "data: two\n\n")
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("ResponseController.Flush through Wrap: %v", err)
		}
	})
}

// readFirstEventThenRelease checks the first event arrives while the handler
// still waits, then lets it finish and returns the whole body.
func readFirstEventThenRelease(t *testing.T, url string, release chan<- struct{}, wantFirst string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	first, err := br.ReadString('\n')
	if err != nil {
		t.Fatalf("first chunk never arrived before the second was written: %v", err)
	}
	if !strings.Contains(first, wantFirst) {
		t.Fatalf("first line %q, want %q in it", first, wantFirst)
	}
	close(release)
	rest, _ := io.ReadAll(br)
	return first + string(rest)
}

func TestFlushSurvivesWrap(t *testing.T) {
	h := newHarness(t, Config{}, Options{})
	release := make(chan struct{})
	srv := httptest.NewServer(h.tel.Wrap(streamingApp(t, release)))
	defer srv.Close()
	body := readFirstEventThenRelease(t, srv.URL+"/v1/chat/completions", release, "data: one")
	if !strings.Contains(body, "data: two") {
		t.Errorf("body %q lacks the second event", body)
	}
	srv.Close() // wait for the handler and Wrap to finish
	m, ok := sample(scrape(t, h.tel), "aligngate_time_to_first_token_seconds", map[string]string{"route": "/v1/chat/completions"})
	if !ok || m.GetHistogram().GetSampleCount() != 1 {
		t.Error("a stream's first write must be recorded as time to first token")
	}
}

func TestGinStreamThroughWrap(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	h := newHarness(t, Config{}, Options{})
	release := make(chan struct{})
	engine := gin.New()
	engine.POST("/v1/chat/completions", func(c *gin.Context) {
		sent := 0
		c.Stream(func(w io.Writer) bool { // calls CloseNotify: must not panic
			if sent == 1 {
				select {
				case <-release:
				case <-c.Request.Context().Done():
					return false
				}
			}
			c.SSEvent("", []string{"one", "two"}[sent])
			sent++
			return sent < 2
		})
	})
	srv := httptest.NewServer(h.tel.Wrap(engine))
	defer srv.Close()
	body := readFirstEventThenRelease(t, srv.URL+"/v1/chat/completions", release, "one")
	if !strings.Contains(body, "two") {
		t.Errorf("body %q lacks the second event", body)
	}
}

func TestResponseWriterStatusAndBytes(t *testing.T) {
	tests := []struct {
		name   string
		handle func(w http.ResponseWriter)
		status int
		bytes  int64
	}{
		{"nothing written", func(http.ResponseWriter) {}, 200, 0},
		{"implicit 200", func(w http.ResponseWriter) { _, _ = io.WriteString(w, "hello") }, 200, 5},
		{"explicit status", func(w http.ResponseWriter) { w.WriteHeader(503); _, _ = io.WriteString(w, "x") }, 503, 1},
		{"informational first", func(w http.ResponseWriter) { w.WriteHeader(103); w.WriteHeader(201) }, 201, 0},
		{"second WriteHeader ignored", func(w http.ResponseWriter) { w.WriteHeader(404); w.WriteHeader(500) }, 404, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rw := &responseWriter{ResponseWriter: httptest.NewRecorder(), now: time.Now}
			tt.handle(rw)
			if rw.statusCode() != tt.status || rw.bytes != tt.bytes {
				t.Errorf("status %d bytes %d, want %d and %d", rw.statusCode(), rw.bytes, tt.status, tt.bytes)
			}
		})
	}
}

func TestHijackThroughWrap(t *testing.T) {
	tel := Nop()
	srv := httptest.NewServer(tel.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("Hijack: %v", err)
			return
		}
		defer conn.Close()
		_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi")
		_ = buf.Flush()
	})))
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _ = io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	got, _ := io.ReadAll(conn)
	if !strings.HasSuffix(string(got), "hi") {
		t.Errorf("hijacked response %q", got)
	}
}
