package proxy

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aligngate/aligngate/correct"
)

type connRequests struct{}

// closingBackend is a remote correction server standing for an external
// one that closes kept-alive connections (llama-server after 5 s idle):
// it answers the first request of each connection and closes the
// connection without an answer when another request arrives on it, the
// race a client loses when the backend closes an idle connection just as
// the client reuses it.
func closingBackend(t *testing.T, calls *atomic.Int32) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		if r.Context().Value(connRequests{}).(*atomic.Int32).Add(1) > 1 {
			if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
				conn.Close()
			}
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: {\"choices\":[{\"text\":\"Corrected.\",\"finish_reason\":null}]}\n\n"+
			"data: {\"choices\":[{\"text\":\"\",\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n")
	}))
	srv.Config.ConnContext = func(ctx context.Context, _ net.Conn) context.Context {
		return context.WithValue(ctx, connRequests{}, new(atomic.Int32))
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// TestRemoteBackendClosingKeepAlivesLosesNoCorrection: 200 corrections at
// concurrency 4 against a backend that closes kept-alive connections are
// all corrected, none falls back to the original.
func TestRemoteBackendClosingKeepAlivesLosesNoCorrection(t *testing.T) {
	noLeaks(t)
	var calls atomic.Int32
	be := closingBackend(t, &calls)
	up := httptest.NewServer((&recorder{}).handler(200, okChat))
	defer up.Close()
	cfg := defaultTestConfig()
	cfg.Upstreams = []Upstream{{Name: "test", BaseURL: up.URL + "/v1"}}
	cfg.Policies.Default.Mode = "aligner"
	cfg.Correct.Backend = correct.BackendRemote
	cfg.Correct.Remote.BaseURL = be.URL + "/v1"
	cfg.Correct.Remote.Model = "aligner"
	cfg.SetDefaults()
	tr := correct.NewRemoteTransport()
	defer tr.CloseIdleConnections()
	remote, err := correct.NewRemote(cfg.Correct.Remote, &http.Client{Transport: tr}, nil)
	if err != nil {
		t.Fatal(err)
	}
	px := serveCorrecting(t, cfg, map[string]correct.Model{correct.BackendRemote: remote}, nil)

	const total, workers = 200, 4
	var next atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan string, total)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1); i <= total; i = next.Add(1) {
				if msg := askCorrected(px.URL, i); msg != "" {
					errs <- msg
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	n := 0
	for msg := range errs {
		if n++; n <= 5 {
			t.Error(msg)
		}
	}
	if n > 0 {
		t.Fatalf("%d of %d answers not corrected (%d retries)", n, total, remote.Retries())
	}
	if remote.Retries() == 0 {
		t.Errorf("no request met a closed kept-alive connection: the backend double did not close any")
	}
	t.Logf("%d backend requests, %d retries", calls.Load(), remote.Retries())
}

// askCorrected sends one chat request and describes what is wrong with
// its answer, or returns "".
func askCorrected(base string, i int32) string {
	body := fmt.Sprintf(`{"model":"m","messages":[{"role":"user","content":"question %d"}]}`, i)
	resp, err := http.Post(base+"/v1/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		return fmt.Sprintf("request %d: %v", i, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out struct {
		Choices []struct {
			Message struct {
				Content string `json:"content"`
			} `json:"message"`
		} `json:"choices"`
	}
	switch {
	case resp.StatusCode != 200:
		return fmt.Sprintf("request %d: status %d: %s", i, resp.StatusCode, b)
	case resp.Header.Get(headerFallback) != "":
		return fmt.Sprintf("request %d: fell back (%s)", i, resp.Header.Get(headerFallback))
	case resp.Header.Get(headerCorrected) != "true":
		return fmt.Sprintf("request %d: %s=%q", i, headerCorrected, resp.Header.Get(headerCorrected))
	case json.Unmarshal(b, &out) != nil || len(out.Choices) != 1 || out.Choices[0].Message.Content != "Corrected.":
		return fmt.Sprintf("request %d: answer %s", i, b)
	}
	return ""
}
