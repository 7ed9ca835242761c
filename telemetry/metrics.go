package telemetry

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
)

// Correction outcomes. Fallbacks are "fallback_" plus a reason from a closed
// vocabulary (timeout, queue_full, error, canceled, too_long...): the outcome
// is a metric label, so it must never carry free text.
const (
	OutcomeCorrected = "corrected"
	OutcomeUnchanged = "unchanged"
	OutcomeFallback  = "fallback_"
)

// Cache lookup outcomes.
const (
	CacheHit   = "hit"
	CacheMiss  = "miss"
	CacheError = "error"
)

// Bucket boundaries: seconds for latencies, tokens per second for throughput.
var (
	latencyBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120}
	rateBuckets    = []float64{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000}
)

// Metrics records aligngate's metrics. Methods are safe for concurrent use;
// Correction, Cache and Assignment also annotate the request's RequestInfo
// found in ctx (idempotently), so the request log line carries them.
type Metrics struct {
	meter metric.Meter

	requests      metric.Int64Counter
	reqDuration   metric.Float64Histogram
	ttft          metric.Float64Histogram
	upRequests    metric.Int64Counter
	upDuration    metric.Float64Histogram
	upTTFB        metric.Float64Histogram
	upCuts        metric.Int64Counter
	corrections   metric.Int64Counter
	corrDuration  metric.Float64Histogram
	corrRate      metric.Float64Histogram
	cache         metric.Int64Counter
	assignments   metric.Int64Counter
	exportErrors  metric.Int64Counter
	queueDepth    metric.Int64ObservableGauge
	busySequences metric.Int64ObservableGauge
	draftTokens   metric.Int64ObservableCounter
	draftSteps    metric.Int64ObservableCounter

	mu         sync.Mutex
	engineStat metric.Registration
	sets       setCache
}

// newMetrics creates every instrument on meter.
func newMetrics(meter metric.Meter) (*Metrics, error) {
	m := &Metrics{meter: meter}
	var errs []error
	counter := func(name, unit, desc string) metric.Int64Counter {
		c, err := meter.Int64Counter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return c
	}
	hist := func(name, unit, desc string, buckets []float64) metric.Float64Histogram {
		h, err := meter.Float64Histogram(name, metric.WithUnit(unit), metric.WithDescription(desc),
			metric.WithExplicitBucketBoundaries(buckets...))
		errs = append(errs, err)
		return h
	}
	gauge := func(name, unit, desc string) metric.Int64ObservableGauge {
		g, err := meter.Int64ObservableGauge(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return g
	}
	m.requests = counter("aligngate_requests", "{request}", "HTTP requests served, by route, status, mode and arm.")
	m.reqDuration = hist("aligngate_request_duration", "s", "Time to serve a request, until the handler returned.", latencyBuckets)
	m.ttft = hist("aligngate_time_to_first_token", "s", "Time from request start to the first answer bytes sent to the client.", latencyBuckets)
	m.upRequests = counter("aligngate_upstream_requests", "{request}", "Calls to the upstream LLM, by route and status.")
	m.upDuration = hist("aligngate_upstream_duration", "s", "Duration of upstream LLM calls.", latencyBuckets)
	m.upTTFB = hist("aligngate_upstream_time_to_first_byte", "s", "Time to the upstream's first response byte.", latencyBuckets)
	m.upCuts = counter("aligngate_upstream_cuts", "{response}", "Upstream answers cut short after the client got their headers, by route.")
	m.corrections = counter("aligngate_corrections", "{correction}", "Corrections run, by mode, backend and outcome.")
	m.corrDuration = hist("aligngate_correction_duration", "s", "Duration of one correction.", latencyBuckets)
	m.corrRate = hist("aligngate_correction_tokens_per_second", "", "Correction model output tokens per second.", rateBuckets)
	m.cache = counter("aligngate_cache_lookups", "{lookup}", "Correction cache lookups, by outcome (hit, miss, error).")
	m.assignments = counter("aligngate_experiment_assignments", "{assignment}", "Requests assigned to an experiment arm.")
	m.exportErrors = counter("aligngate_telemetry_export_errors", "{error}", "Failed telemetry exports (data dropped), by signal.")
	m.queueDepth = gauge("aligngate_engine_queue_depth", "{request}", "Requests waiting for the local correction engine.")
	m.busySequences = gauge("aligngate_engine_busy_sequences", "{sequence}", "Engine sequences currently generating.")
	var err error
	m.draftTokens, err = meter.Int64ObservableCounter("aligngate_engine_draft_tokens", metric.WithUnit("{token}"),
		metric.WithDescription("Reference tokens the engine drafted, by result (accepted, rejected)."))
	errs = append(errs, err)
	m.draftSteps, err = meter.Int64ObservableCounter("aligngate_engine_draft_steps", metric.WithUnit("{step}"),
		metric.WithDescription("Decode steps that verified a draft, by how many drafted tokens they accepted: the distribution of tokens accepted per step."))
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("telemetry: create instruments: %w", err)
	}
	return m, nil
}

// nopMetrics returns Metrics that record nothing.
func nopMetrics() *Metrics {
	m, err := newMetrics(noop.NewMeterProvider().Meter(scopeName))
	if err != nil {
		panic(err) // the no-op meter cannot fail
	}
	return m
}

// request records one served request; called by Wrap.
func (m *Metrics) request(ctx context.Context, s infoSnapshot, status int, d time.Duration) {
	set := m.sets.get(labels(status, "route", s.Route, "mode", orNone(s.Mode), "arm", orNone(s.Arm)))
	m.requests.Add(ctx, 1, set)
	m.reqDuration.Record(ctx, d.Seconds(), set)
	if s.ttft > 0 {
		m.ttft.Record(ctx, s.ttft.Seconds(), m.sets.get(labels(0, "route", s.Route, "mode", orNone(s.Mode))))
	}
}

// Upstream records one call to the upstream LLM: its HTTP status (0 when no
// response came back), total duration and time to first byte (0 if none).
// Unlike the other methods it does not annotate RequestInfo: the caller adds
// to Upstream and sets UpstreamTTFB, so that retries are summed its way.
func (m *Metrics) Upstream(ctx context.Context, route string, status int, d, ttfb time.Duration) {
	route = Route(route)
	set := m.sets.get(labels(status, "route", route))
	m.upRequests.Add(ctx, 1, set)
	m.upDuration.Record(ctx, d.Seconds(), set)
	if ttfb > 0 {
		m.upTTFB.Record(ctx, ttfb.Seconds(), m.sets.get(labels(0, "route", route)))
	}
}

// UpstreamCut records an upstream answer that ended in an error after its
// headers were relayed to the client.
func (m *Metrics) UpstreamCut(ctx context.Context, route string) {
	m.upCuts.Add(ctx, 1, m.sets.get(labels(0, "route", Route(route))))
}

// Correction records one correction (a whole answer, or one sentence when
// streaming). Outcome is OutcomeCorrected, OutcomeUnchanged or
// OutcomeFallback+reason; tokensOut feeds the tokens-per-second histogram.
func (m *Metrics) Correction(ctx context.Context, mode, backend, outcome string, d time.Duration, tokensOut int) {
	set := m.sets.get(labels(0, "mode", orNone(mode), "backend", orNone(backend), "outcome", orNone(outcome)))
	m.corrections.Add(ctx, 1, set)
	m.corrDuration.Record(ctx, d.Seconds(), set)
	if tokensOut > 0 && d > 0 {
		m.corrRate.Record(ctx, float64(tokensOut)/d.Seconds(), m.sets.get(labels(0, "mode", orNone(mode), "backend", orNone(backend))))
	}
	Info(ctx).Update(func(i *RequestInfo) {
		switch {
		case outcome == OutcomeCorrected:
			i.Corrected = true
		case strings.HasPrefix(outcome, OutcomeFallback) && i.Fallback == "":
			i.Fallback = strings.TrimPrefix(outcome, OutcomeFallback)
		}
	})
}

// Cache records one cache lookup: CacheHit, CacheMiss or CacheError.
func (m *Metrics) Cache(ctx context.Context, outcome string) {
	m.cache.Add(ctx, 1, metric.WithAttributes(attribute.String("outcome", outcome)))
	Info(ctx).Update(func(i *RequestInfo) { i.Cache = outcome })
}

// Assignment records that the request was assigned arm of experiment.
func (m *Metrics) Assignment(ctx context.Context, experiment, arm string) {
	m.assignments.Add(ctx, 1, metric.WithAttributeSet(attribute.NewSet(
		attribute.String("experiment", experiment),
		attribute.String("arm", arm),
	)))
	Info(ctx).Update(func(i *RequestInfo) {
		i.Experiment = experiment
		i.Arm = arm
	})
}

// EngineStats is what the local engine reports at each collection.
type EngineStats struct {
	QueueDepth, BusySequences int
	// DraftAccepted and DraftRejected count reference-drafted tokens since
	// start; AcceptedPerStep[i] counts verifying steps that accepted i.
	DraftAccepted, DraftRejected int64
	AcceptedPerStep              []int64
}

// RegisterEngineStats makes f feed the engine gauges (queue depth, busy
// sequences) and draft counters; f is called at each collection (each
// scrape of /metrics) and must be fast and safe for concurrent use. A later
// call replaces f.
func (m *Metrics) RegisterEngineStats(f func() EngineStats) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.engineStat != nil {
		if err := m.engineStat.Unregister(); err != nil {
			return fmt.Errorf("telemetry: unregister engine stats: %w", err)
		}
		m.engineStat = nil
	}
	accepted := metric.WithAttributeSet(attribute.NewSet(attribute.String("result", "accepted")))
	rejected := metric.WithAttributeSet(attribute.NewSet(attribute.String("result", "rejected")))
	reg, err := m.meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		st := f()
		o.ObserveInt64(m.queueDepth, int64(st.QueueDepth))
		o.ObserveInt64(m.busySequences, int64(st.BusySequences))
		o.ObserveInt64(m.draftTokens, st.DraftAccepted, accepted)
		o.ObserveInt64(m.draftTokens, st.DraftRejected, rejected)
		for n, steps := range st.AcceptedPerStep {
			o.ObserveInt64(m.draftSteps, steps, metric.WithAttributes(attribute.Int("accepted", n)))
		}
		return nil
	}, m.queueDepth, m.busySequences, m.draftTokens, m.draftSteps)
	if err != nil {
		return fmt.Errorf("telemetry: register engine stats: %w", err)
	}
	m.engineStat = reg
	return nil
}

// exportError counts a failed export of signal ("traces" or "metrics").
func (m *Metrics) exportError(signal string) {
	m.exportErrors.Add(context.Background(), 1, metric.WithAttributes(attribute.String("signal", signal)))
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
