package telemetry

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

func TestUnreachableCollectorDoesNotSlowRequests(t *testing.T) {
	for _, exporter := range []string{ExporterOTLPHTTP, ExporterOTLPGRPC} {
		t.Run(exporter, func(t *testing.T) {
			const (
				requests = 300
				timeout  = 3 * time.Second
			)
			logs := &syncBuffer{}
			addr := closedPort(t)
			cfg := Config{
				Traces: TracesConfig{Exporter: exporter, Endpoint: addr, Insecure: true, Timeout: timeout, QueueSize: 16},
				Metrics: MetricsConfig{OTLPExporter: exporter, Endpoint: addr, Insecure: true,
					Interval: 50 * time.Millisecond, Timeout: timeout},
			}
			tel, err := New(context.Background(), cfg, Options{LogWriter: logs})
			if err != nil {
				t.Fatal(err)
			}
			app := tel.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, span := tel.Tracer.Start(r.Context(), SpanCache)
				span.End()
				_, _ = w.Write([]byte("ok"))
			}))

			start := time.Now()
			for i := range requests {
				if rec := do(app, http.MethodPost, "/v1/chat/completions", nil); rec.Code != http.StatusOK {
					t.Fatalf("request %d: status %d", i, rec.Code)
				}
			}
			// Blocking on the exporter even once per request would take
			// requests*timeout (15 minutes); the whole batch must finish
			// within a single export timeout.
			if elapsed := time.Since(start); elapsed >= timeout {
				t.Errorf("%d requests took %v with the collector down; telemetry blocks serving", requests, elapsed)
			}

			// Flushing hits the dead collector: the failure is counted and
			// logged, never returned to the request path.
			ctx, cancel := context.WithTimeout(context.Background(), 4*timeout)
			defer cancel()
			_ = tel.ForceFlush(ctx)
			m, ok := sample(scrape(t, tel), "aligngate_telemetry_export_errors_total", map[string]string{"signal": "traces"})
			if !ok || m.GetCounter().GetValue() < 1 {
				t.Error("failed span export not counted")
			}
			if !strings.Contains(logs.String(), "telemetry export failed") {
				t.Errorf("failed export not logged: %s", logs.String())
			}
			_ = tel.Shutdown(ctx)
		})
	}
}
