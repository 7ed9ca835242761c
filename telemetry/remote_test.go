package telemetry

import (
	"sync/atomic"
	"testing"
)

func TestRemoteRetriesMetric(t *testing.T) {
	h := newHarness(t, Config{}, Options{})
	var n atomic.Int64
	n.Store(4)
	if err := h.tel.Metrics.RegisterRemoteRetries(n.Load); err != nil {
		t.Fatal(err)
	}
	n.Add(2)
	m, ok := sample(scrape(t, h.tel), "aligngate_remote_retries_total", nil)
	if !ok || m.GetCounter().GetValue() != 6 {
		t.Fatalf("aligngate_remote_retries_total %v (found %v), want 6", m, ok)
	}
}
