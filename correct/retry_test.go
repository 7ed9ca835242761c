package correct

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

type connCount struct{}

// keepAliveBackend is a completion server standing for an external one
// (llama-server, vLLM) that closes kept-alive connections: each
// connection's first `serve` requests are answered, a later one is met
// by `drop` (by default: the connection closed without an answer, as when
// the backend closes an idle connection just as a request arrives). It
// counts the requests that reached it.
type keepAliveBackend struct {
	serve int32
	drop  func(net.Conn)
	hits  atomic.Int32
}

func (b *keepAliveBackend) start(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.hits.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		n := r.Context().Value(connCount{}).(*atomic.Int32).Add(1)
		if n > b.serve {
			conn, _, err := http.NewResponseController(w).Hijack()
			if err != nil {
				return
			}
			if b.drop != nil {
				b.drop(conn)
			}
			conn.Close()
			return
		}
		streamChunks("Fixed", ".")(w, r)
	}))
	srv.Config.ConnContext = func(ctx context.Context, _ net.Conn) context.Context {
		return context.WithValue(ctx, connCount{}, new(atomic.Int32))
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

func keepAliveRemote(t *testing.T, url string) *Remote {
	t.Helper()
	tr := NewRemoteTransport()
	t.Cleanup(tr.CloseIdleConnections)
	r, err := NewRemote(RemoteConfig{BaseURL: url, Model: "aligner"}, &http.Client{Transport: tr}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRemoteRetriesOnClosedKeepAlive(t *testing.T) {
	be := &keepAliveBackend{serve: 1}
	r := keepAliveRemote(t, be.start(t).URL)
	for i := range 6 {
		res, err := r.Generate(context.Background(), "P", Params{MaxTokens: 8}, nil)
		if err != nil || res.Text != "Fixed." {
			t.Fatalf("generation %d: %q, %v", i, res.Text, err)
		}
	}
	// Every other generation met a closed kept-alive connection and was
	// sent once more, on a new one.
	if got := r.Retries(); got != 3 {
		t.Errorf("retries %d, want 3", got)
	}
	if got := be.hits.Load(); got != 9 {
		t.Errorf("backend requests %d, want 9", got)
	}
}

func TestRemoteNoRetryAfterFirstByte(t *testing.T) {
	be := &keepAliveBackend{serve: 1, drop: func(c net.Conn) { io.WriteString(c, "HTTP/1.1 2") }}
	r := keepAliveRemote(t, be.start(t).URL)
	if _, err := r.Generate(context.Background(), "P", Params{MaxTokens: 8}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Generate(context.Background(), "P", Params{MaxTokens: 8}, nil); err == nil {
		t.Fatal("a cut answer was not an error")
	}
	if r.Retries() != 0 || be.hits.Load() != 2 {
		t.Errorf("retries %d, backend requests %d: a request whose answer had begun was sent again", r.Retries(), be.hits.Load())
	}
}

func TestRemoteNoRetryOnNewConnection(t *testing.T) {
	be := &keepAliveBackend{serve: 0}
	r := keepAliveRemote(t, be.start(t).URL)
	if _, err := r.Generate(context.Background(), "P", Params{MaxTokens: 8}, nil); err == nil {
		t.Fatal("a dropped request was not an error")
	}
	if r.Retries() != 0 || be.hits.Load() != 1 {
		t.Errorf("retries %d, backend requests %d: a failure on a new connection was retried", r.Retries(), be.hits.Load())
	}
}

func TestRemoteTransportIdleBelowBackends(t *testing.T) {
	if got := NewRemoteTransport().IdleConnTimeout; got <= 0 || got >= 5e9 {
		t.Errorf("IdleConnTimeout %s, want below the backends' 5 s keep-alive", got)
	}
}
