package telemetry

import (
	"io"
	"net/http"
	"testing"
	"time"
)

func TestMetricsEndpoint(t *testing.T) {
	h := newHarness(t, Config{}, Options{})
	tel := h.tel
	app := tel.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		info := Info(ctx)
		switch r.URL.Path {
		case "/v1/chat/completions":
			info.Mode = "aligner"
			tel.Metrics.Assignment(ctx, "exp1", "b")
			tel.Metrics.Upstream(ctx, r.URL.Path, http.StatusOK, 2*time.Second, 500*time.Millisecond)
			tel.Metrics.Cache(ctx, CacheMiss)
			tel.Metrics.Correction(ctx, "aligner", "llamacpp", OutcomeCorrected, 2*time.Second, 100)
			info.FirstByte = 3 * time.Second
			_, _ = io.WriteString(w, "{}")
		case "/v1/completions":
			tel.Metrics.Cache(ctx, CacheHit)
			tel.Metrics.Correction(ctx, "aligner", "remote", OutcomeFallback+"timeout", time.Second, 0)
			w.WriteHeader(http.StatusBadGateway)
		default:
			http.NotFound(w, r)
		}
	}))
	for range 3 {
		do(app, http.MethodPost, "/v1/chat/completions", nil)
	}
	do(app, http.MethodPost, "/v1/completions", nil)
	do(app, http.MethodGet, "/v1/files/abc", nil)
	do(app, http.MethodGet, "/wp-admin/x.php", nil)
	if err := tel.Metrics.RegisterEngineStats(func() EngineStats { return EngineStats{QueueDepth: 7, BusySequences: 2} }); err != nil {
		t.Fatal(err)
	}
	// A second registration replaces the first.
	if err := tel.Metrics.RegisterEngineStats(func() EngineStats {
		return EngineStats{QueueDepth: 3, BusySequences: 1, DraftAccepted: 40, DraftRejected: 9, AcceptedPerStep: []int64{2, 0, 5}}
	}); err != nil {
		t.Fatal(err)
	}

	fams := scrape(t, tel)
	counters := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"aligngate_requests_total", map[string]string{"route": "/v1/chat/completions", "status": "200", "mode": "aligner", "arm": "b"}, 3},
		{"aligngate_requests_total", map[string]string{"route": "/v1/completions", "status": "502", "mode": "none", "arm": "none"}, 1},
		{"aligngate_requests_total", map[string]string{"route": "/v1/other", "status": "404"}, 1},
		{"aligngate_requests_total", map[string]string{"route": "other", "status": "404"}, 1},
		{"aligngate_upstream_requests_total", map[string]string{"route": "/v1/chat/completions", "status": "200"}, 3},
		{"aligngate_corrections_total", map[string]string{"mode": "aligner", "backend": "llamacpp", "outcome": "corrected"}, 3},
		{"aligngate_corrections_total", map[string]string{"backend": "remote", "outcome": "fallback_timeout"}, 1},
		{"aligngate_cache_lookups_total", map[string]string{"outcome": "miss"}, 3},
		{"aligngate_cache_lookups_total", map[string]string{"outcome": "hit"}, 1},
		{"aligngate_experiment_assignments_total", map[string]string{"experiment": "exp1", "arm": "b"}, 3},
		{"aligngate_engine_draft_tokens_total", map[string]string{"result": "accepted"}, 40},
		{"aligngate_engine_draft_tokens_total", map[string]string{"result": "rejected"}, 9},
		{"aligngate_engine_draft_steps_total", map[string]string{"accepted": "2"}, 5},
		{"aligngate_engine_draft_steps_total", map[string]string{"accepted": "0"}, 2},
	}
	for _, c := range counters {
		m, ok := sample(fams, c.name, c.labels)
		if !ok {
			t.Errorf("%s%v missing", c.name, c.labels)
			continue
		}
		if got := m.GetCounter().GetValue(); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}

	hists := []struct {
		name   string
		labels map[string]string
		count  uint64
		sum    float64
	}{
		{"aligngate_upstream_duration_seconds", map[string]string{"route": "/v1/chat/completions", "status": "200"}, 3, 6},
		{"aligngate_upstream_time_to_first_byte_seconds", map[string]string{"route": "/v1/chat/completions"}, 3, 1.5},
		{"aligngate_correction_duration_seconds", map[string]string{"outcome": "corrected"}, 3, 6},
		{"aligngate_correction_tokens_per_second", map[string]string{"backend": "llamacpp"}, 3, 150},
		{"aligngate_time_to_first_token_seconds", map[string]string{"route": "/v1/chat/completions", "mode": "aligner"}, 3, 9},
		{"aligngate_request_duration_seconds", map[string]string{"route": "/v1/chat/completions", "status": "200"}, 3, -1},
	}
	for _, c := range hists {
		m, ok := sample(fams, c.name, c.labels)
		if !ok {
			t.Errorf("%s%v missing", c.name, c.labels)
			continue
		}
		hg := m.GetHistogram()
		if hg.GetSampleCount() != c.count || (c.sum >= 0 && hg.GetSampleSum() != c.sum) {
			t.Errorf("%s%v count %d sum %v, want %d and %v", c.name, c.labels, hg.GetSampleCount(), hg.GetSampleSum(), c.count, c.sum)
		}
	}
	if _, ok := sample(fams, "aligngate_time_to_first_token_seconds", map[string]string{"route": "/v1/completions"}); ok {
		t.Error("time to first token recorded for a request that had none")
	}

	for name, want := range map[string]float64{"aligngate_engine_queue_depth": 3, "aligngate_engine_busy_sequences": 1} {
		m, ok := sample(fams, name, nil)
		if !ok {
			t.Errorf("%s missing", name)
			continue
		}
		if got := m.GetGauge().GetValue(); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	for name := range fams {
		if name == "aligngate_requests_total" {
			for _, m := range fams[name].GetMetric() {
				for _, lp := range m.GetLabel() {
					if lp.GetName() == "otel_scope_name" {
						t.Errorf("scope labels leak into %s", name)
					}
				}
			}
		}
	}
	if _, ok := fams["go_goroutines"]; !ok {
		t.Error("runtime metrics missing from our registry")
	}
}

func TestPrometheusDisabled(t *testing.T) {
	off := false
	h := newHarness(t, Config{Metrics: MetricsConfig{Prometheus: &off}}, Options{})
	if rec := do(h.tel.MetricsHandler(), http.MethodGet, "/metrics", nil); rec.Code != http.StatusNotFound {
		t.Errorf("status %d, want 404 with prometheus off", rec.Code)
	}
}

func TestTwoInstancesHaveSeparateRegistries(t *testing.T) {
	a := newHarness(t, Config{}, Options{})
	b := newHarness(t, Config{}, Options{})
	a.tel.Metrics.Cache(t.Context(), CacheHit)
	if _, ok := sample(scrape(t, b.tel), "aligngate_cache_lookups_total", nil); ok {
		t.Error("metrics of one Telemetry show up in another's /metrics")
	}
	if _, ok := sample(scrape(t, a.tel), "aligngate_cache_lookups_total", map[string]string{"outcome": "hit"}); !ok {
		t.Error("cache lookup not recorded")
	}
}
