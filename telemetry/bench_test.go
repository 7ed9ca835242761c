package telemetry

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// BenchmarkWrap measures what Wrap adds to a request that does nothing:
// "nop" is Nop(), "otel" is full telemetry (100% sampling, batch export to a
// discarding exporter, Prometheus metrics, the JSON request log line).
func BenchmarkWrap(b *testing.B) {
	full, err := New(context.Background(), Config{}, Options{
		LogWriter:    io.Discard,
		SpanExporter: tracetest.NewNoopExporter(),
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = full.Shutdown(context.Background()) })
	nopApp := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	for _, bc := range []struct {
		name string
		tel  *Telemetry
	}{{"nop", Nop()}, {"otel", full}} {
		b.Run(bc.name, func(b *testing.B) {
			h := bc.tel.Wrap(nopApp)
			req := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", nil)
			req.Header.Set("Traceparent", "00-"+clientTraceID+"-"+clientSpanID+"-01")
			w := httptest.NewRecorder()
			b.ReportAllocs()
			cpu0 := cpuTime(b)
			for b.Loop() {
				h.ServeHTTP(w, req)
			}
			// Process CPU time, background export and GC included: steadier
			// than ns/op on a shared, loaded machine.
			b.ReportMetric(float64((cpuTime(b)-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
		})
	}
}

// cpuTime is the process's user plus system CPU time.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
