package telemetry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// scopeName is the instrumentation scope of our tracer and meter.
const scopeName = "github.com/aligngate/aligngate"

// Options carries what is not configuration: where logs go, which secrets
// to scrub, and test hooks.
type Options struct {
	// LogWriter receives log lines. Default os.Stderr.
	LogWriter io.Writer
	// Secrets are configured values (upstream and client API keys...) that
	// are scrubbed from every log line. Exporter header values are added.
	Secrets []string
	// SpanExporter, when set, replaces the configured trace exporter (tests
	// pass a tracetest.InMemoryExporter). It still goes through the batcher.
	SpanExporter sdktrace.SpanExporter
	// Now is the clock for request durations. Default time.Now.
	Now func() time.Time
	// Version is the service.version resource attribute, if known.
	Version string
}

// Telemetry holds the logger, tracer, propagator and metrics of one
// process. Build it with New (or Nop), pass it down, Shutdown it on exit.
type Telemetry struct {
	// Logger scrubs secrets and, unless content capture is on, content.
	Logger *slog.Logger
	// Tracer starts aligngate's spans.
	Tracer trace.Tracer
	// TracerProvider is for instrumenting libraries (e.g. redis) that take one.
	TracerProvider trace.TracerProvider
	// MeterProvider is for instrumenting libraries that take one.
	MeterProvider metric.MeterProvider
	// Propagator carries W3C trace context in and out.
	Propagator propagation.TextMapPropagator
	// Metrics records aligngate's metrics.
	Metrics *Metrics

	captureContent bool
	now            func() time.Time
	metricsHandler http.Handler
	gatherer       prometheus.Gatherer
	flush          func(context.Context) error
	shutdown       []func(context.Context) error
}

// New builds telemetry from cfg (defaults are applied to a copy). It never
// contacts a collector: exporters connect lazily and failures drop data.
func New(ctx context.Context, cfg Config, opts Options) (*Telemetry, error) {
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if opts.LogWriter == nil {
		opts.LogWriter = os.Stderr
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	secrets := append(append([]string(nil), opts.Secrets...), cfg.secrets()...)
	logger, err := newLogger(cfg.Log, opts.LogWriter, secrets, cfg.CaptureContent)
	if err != nil {
		return nil, err
	}
	t := &Telemetry{
		Logger:         logger,
		Propagator:     propagation.TraceContext{},
		captureContent: cfg.CaptureContent,
		now:            opts.Now,
	}
	failures := &exportFailures{logger: logger, now: opts.Now}
	res := newResource(cfg.ServiceName, opts.Version)
	if err := t.setupMetrics(ctx, cfg, res, failures); err != nil {
		return nil, errors.Join(err, t.Shutdown(ctx))
	}
	failures.metrics.Store(t.Metrics)
	if err := t.setupTraces(ctx, cfg, res, opts.SpanExporter, failures); err != nil {
		return nil, errors.Join(err, t.Shutdown(ctx))
	}
	return t, nil
}

// Nop returns telemetry that records nothing: no spans, no metrics, a
// logger that discards. Wrap still provides RequestInfo to handlers.
func Nop() *Telemetry {
	tp := tracenoop.NewTracerProvider()
	mp := metricnoop.NewMeterProvider()
	return &Telemetry{
		Logger:         slog.New(slog.DiscardHandler),
		Tracer:         tp.Tracer(scopeName),
		TracerProvider: tp,
		MeterProvider:  mp,
		Propagator:     propagation.NewCompositeTextMapPropagator(),
		Metrics:        nopMetrics(),
		now:            time.Now,
		metricsHandler: http.NotFoundHandler(),
		gatherer:       prometheus.Gatherers{},
	}
}

// setupMetrics builds the meter provider with its Prometheus registry and
// optional OTLP reader.
func (t *Telemetry) setupMetrics(ctx context.Context, cfg Config, res *resource.Resource, failures *exportFailures) error {
	t.metricsHandler = http.NotFoundHandler()
	t.gatherer = prometheus.Gatherers{}
	var readers []sdkmetric.Reader
	if cfg.Metrics.PrometheusEnabled() {
		reg := prometheus.NewRegistry()
		if err := reg.Register(collectors.NewGoCollector()); err != nil {
			return fmt.Errorf("telemetry: register go collector: %w", err)
		}
		if err := reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
			return fmt.Errorf("telemetry: register process collector: %w", err)
		}
		r, err := newPrometheusReader(reg)
		if err != nil {
			return err
		}
		readers = append(readers, r)
		t.metricsHandler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: promErrorLog{t.Logger}})
		t.gatherer = reg
	}
	if cfg.Metrics.OTLPExporter != ExporterNone {
		r, err := newOTLPMetricReader(ctx, cfg.Metrics, failures)
		if err != nil {
			return err
		}
		readers = append(readers, r)
	}
	mp := newMeterProvider(res, readers)
	t.MeterProvider = mp
	t.shutdown = append(t.shutdown, mp.Shutdown)
	m, err := newMetrics(mp.Meter(scopeName))
	if err != nil {
		return err
	}
	t.Metrics = m
	return nil
}

// setupTraces builds the tracer provider; exp, when set, replaces the
// configured exporter.
func (t *Telemetry) setupTraces(ctx context.Context, cfg Config, res *resource.Resource, exp sdktrace.SpanExporter, failures *exportFailures) error {
	if exp == nil && cfg.Traces.Exporter != ExporterNone {
		var err error
		if exp, err = newSpanExporter(ctx, cfg.Traces); err != nil {
			return err
		}
	}
	if exp == nil {
		// Nobody collects traces: a no-op tracer keeps the request path
		// cheap. A client's trace context still flows through (to the logs
		// and to the upstream), since no-op spans carry their parent's.
		tp := tracenoop.NewTracerProvider()
		t.TracerProvider = tp
		t.Tracer = tp.Tracer(scopeName)
		return nil
	}
	tp := newTracerProvider(cfg.Traces, res, exp, failures)
	t.TracerProvider = tp
	t.Tracer = tp.Tracer(scopeName)
	t.flush = tp.ForceFlush
	t.shutdown = append(t.shutdown, tp.Shutdown)
	return nil
}

// Shutdown flushes pending spans and metrics and stops the exporters. It
// returns when done or when ctx ends, whichever comes first.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	var errs []error
	for i := len(t.shutdown) - 1; i >= 0; i-- {
		if err := t.shutdown[i](ctx); err != nil {
			errs = append(errs, fmt.Errorf("telemetry: shutdown: %w", err))
		}
	}
	t.shutdown = nil
	return errors.Join(errs...)
}

// ForceFlush exports the spans ended so far (tests, and before a planned
// exit).
func (t *Telemetry) ForceFlush(ctx context.Context) error {
	if t.flush == nil {
		return nil
	}
	if err := t.flush(ctx); err != nil {
		return fmt.Errorf("telemetry: flush: %w", err)
	}
	return nil
}

// MetricsHandler serves the Prometheus text exposition; it answers 404 when
// Prometheus is disabled.
func (t *Telemetry) MetricsHandler() http.Handler { return t.metricsHandler }

// Gatherer returns the registry MetricsHandler serves, for in-process
// readers of the same metrics (the dashboard). It gathers nothing when
// Prometheus is disabled.
func (t *Telemetry) Gatherer() prometheus.Gatherer { return t.gatherer }

// CaptureContent reports whether prompts and answers may go on spans.
func (t *Telemetry) CaptureContent() bool { return t.captureContent }

// AddContent puts content (a prompt, an answer) on span under key, only when
// content capture is on.
func (t *Telemetry) AddContent(span trace.Span, key attribute.Key, content string) {
	if t.captureContent {
		span.SetAttributes(key.String(content))
	}
}

// InjectHeaders writes the trace context of ctx (traceparent) into h, for
// calls to the upstream and to a remote correction backend.
func (t *Telemetry) InjectHeaders(ctx context.Context, h http.Header) {
	t.Propagator.Inject(ctx, propagation.HeaderCarrier(h))
}

// Transport returns a RoundTripper that injects the request context's trace
// context into every outgoing request; give it to HTTP clients of packages
// that know nothing of telemetry (the remote correction backend). A nil
// base means http.DefaultTransport.
func (t *Telemetry) Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &injectingTransport{base: base, t: t}
}

type injectingTransport struct {
	base http.RoundTripper
	t    *Telemetry
}

// RoundTrip implements http.RoundTripper without mutating the caller's
// request, as the interface requires.
func (it *injectingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	it.t.InjectHeaders(req.Context(), r.Header)
	return it.base.RoundTrip(r)
}

// promErrorLog routes promhttp's errors to the logger.
type promErrorLog struct{ l *slog.Logger }

// Println implements promhttp.Logger.
func (p promErrorLog) Println(v ...any) { p.l.Warn("metrics: " + fmt.Sprint(v...)) }

var _ http.RoundTripper = (*injectingTransport)(nil)
