package telemetry

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestClientClosedLogged499: a client that leaves before any answer is
// logged (and counted) as 499 client_closed, not as a 200 of 0 bytes.
func TestClientClosedLogged499(t *testing.T) {
	h := newHarness(t, Config{}, Options{})
	entered := make(chan struct{})
	app := h.tel.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-r.Context().Done()
	}))
	ctx, cancel := context.WithCancel(context.Background())
	req := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", nil).WithContext(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		app.ServeHTTP(httptest.NewRecorder(), req)
	}()
	<-entered
	cancel()
	<-done
	lines := h.logs.lines(t)
	if len(lines) != 1 {
		t.Fatalf("got %d log lines", len(lines))
	}
	if l := lines[0]; l["status"] != float64(499) || l["error_kind"] != "client_closed" {
		t.Errorf("log line %v, want status 499 and error_kind client_closed", l)
	}
	if _, ok := sample(scrape(t, h.tel), "aligngate_requests_total", map[string]string{"status": "499"}); !ok {
		t.Errorf("no request counted with status 499")
	}
}
