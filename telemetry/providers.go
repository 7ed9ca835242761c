package telemetry

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
)

// failureLogEvery rate-limits the export failure warning.
const failureLogEvery = time.Minute

// newResource describes this process without reading the environment
// (only cmd/ reads it).
func newResource(service, version string) *resource.Resource {
	attrs := []attribute.KeyValue{semconv.ServiceName(service)}
	if version != "" {
		attrs = append(attrs, semconv.ServiceVersion(version))
	}
	return resource.NewWithAttributes(semconv.SchemaURL, attrs...)
}

func newMeterProvider(res *resource.Resource, readers []sdkmetric.Reader) *sdkmetric.MeterProvider {
	opts := []sdkmetric.Option{sdkmetric.WithResource(res)}
	for _, r := range readers {
		opts = append(opts, sdkmetric.WithReader(r))
	}
	return sdkmetric.NewMeterProvider(opts...)
}

// newPrometheusReader registers an exporter on reg (never the global
// registry), without scope labels or target_info.
func newPrometheusReader(reg *prometheus.Registry) (sdkmetric.Reader, error) {
	exp, err := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithoutScopeInfo(), otelprom.WithoutTargetInfo())
	if err != nil {
		return nil, fmt.Errorf("telemetry: prometheus exporter: %w", err)
	}
	return exp, nil
}

// isURL reports whether an endpoint is a URL rather than host:port.
func isURL(endpoint string) bool { return strings.Contains(endpoint, "://") }

// otlpTarget is where and how an OTLP exporter sends.
type otlpTarget struct {
	endpoint string
	insecure bool
	headers  map[string]string
	timeout  time.Duration
}

// retryConfig mirrors the exporters' RetryConfig types (same fields, so it
// converts to each): retry for at most one export timeout.
type retryConfig struct {
	Enabled                                      bool
	InitialInterval, MaxInterval, MaxElapsedTime time.Duration
}

func (t otlpTarget) retry() retryConfig {
	return retryConfig{Enabled: true, InitialInterval: time.Second, MaxInterval: 5 * time.Second, MaxElapsedTime: t.timeout}
}

// otlpOptions holds one exporter package's option constructors, so the
// four exporters share how a target becomes options.
type otlpOptions[O any] struct {
	url, hostPort func(string) O
	insecure      func() O
	headers       func(map[string]string) O
	timeout       func(time.Duration) O
}

func (o otlpOptions[O]) build(t otlpTarget, extra ...O) []O {
	opts := append([]O{o.timeout(t.timeout), o.headers(t.headers)}, extra...)
	switch {
	case isURL(t.endpoint):
		opts = append(opts, o.url(t.endpoint))
	case t.endpoint != "":
		opts = append(opts, o.hostPort(t.endpoint))
	}
	if t.insecure {
		opts = append(opts, o.insecure())
	}
	return opts
}

func newOTLPMetricReader(ctx context.Context, cfg MetricsConfig, failures *exportFailures) (sdkmetric.Reader, error) {
	var (
		exp sdkmetric.Exporter
		err error
		t   = otlpTarget{endpoint: cfg.Endpoint, insecure: cfg.Insecure, headers: cfg.Headers, timeout: cfg.Timeout}
	)
	switch cfg.OTLPExporter {
	case ExporterOTLPHTTP:
		o := otlpOptions[otlpmetrichttp.Option]{otlpmetrichttp.WithEndpointURL, otlpmetrichttp.WithEndpoint,
			otlpmetrichttp.WithInsecure, otlpmetrichttp.WithHeaders, otlpmetrichttp.WithTimeout}
		exp, err = otlpmetrichttp.New(ctx, o.build(t, otlpmetrichttp.WithRetry(otlpmetrichttp.RetryConfig(t.retry())))...)
	case ExporterOTLPGRPC:
		o := otlpOptions[otlpmetricgrpc.Option]{otlpmetricgrpc.WithEndpointURL, otlpmetricgrpc.WithEndpoint,
			otlpmetricgrpc.WithInsecure, otlpmetricgrpc.WithHeaders, otlpmetricgrpc.WithTimeout}
		exp, err = otlpmetricgrpc.New(ctx, o.build(t, otlpmetricgrpc.WithRetry(otlpmetricgrpc.RetryConfig(t.retry())))...)
	}
	if err != nil {
		return nil, fmt.Errorf("telemetry: otlp metric exporter: %w", err)
	}
	return sdkmetric.NewPeriodicReader(&safeMetricExporter{Exporter: exp, failures: failures},
		sdkmetric.WithInterval(cfg.Interval), sdkmetric.WithTimeout(cfg.Timeout)), nil
}

func newSpanExporter(ctx context.Context, cfg TracesConfig) (sdktrace.SpanExporter, error) {
	var (
		exp sdktrace.SpanExporter
		err error
		t   = otlpTarget{endpoint: cfg.Endpoint, insecure: cfg.Insecure, headers: cfg.Headers, timeout: cfg.Timeout}
	)
	switch cfg.Exporter {
	case ExporterOTLPHTTP:
		o := otlpOptions[otlptracehttp.Option]{otlptracehttp.WithEndpointURL, otlptracehttp.WithEndpoint,
			otlptracehttp.WithInsecure, otlptracehttp.WithHeaders, otlptracehttp.WithTimeout}
		exp, err = otlptracehttp.New(ctx, o.build(t, otlptracehttp.WithRetry(otlptracehttp.RetryConfig(t.retry())))...)
	case ExporterOTLPGRPC:
		o := otlpOptions[otlptracegrpc.Option]{otlptracegrpc.WithEndpointURL, otlptracegrpc.WithEndpoint,
			otlptracegrpc.WithInsecure, otlptracegrpc.WithHeaders, otlptracegrpc.WithTimeout}
		exp, err = otlptracegrpc.New(ctx, o.build(t, otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig(t.retry())))...)
	}
	if err != nil {
		return nil, fmt.Errorf("telemetry: otlp span exporter: %w", err)
	}
	return exp, nil
}

// newTracerProvider samples parent-based at cfg.SampleRatio and exports
// through a bounded, non-blocking batch processor.
func newTracerProvider(cfg TracesConfig, res *resource.Resource, exp sdktrace.SpanExporter, failures *exportFailures) *sdktrace.TracerProvider {
	sampler := sdktrace.ParentBased(sdktrace.TraceIDRatioBased(cfg.SampleRatio))
	opts := []sdktrace.TracerProviderOption{
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sampler),
	}
	opts = append(opts, sdktrace.WithBatcher(&safeSpanExporter{SpanExporter: exp, failures: failures},
		sdktrace.WithMaxQueueSize(cfg.QueueSize),
		sdktrace.WithExportTimeout(cfg.Timeout)))
	return sdktrace.NewTracerProvider(opts...)
}

// exportFailures counts failed exports and logs them at most once a minute,
// so that a dead collector neither floods the log nor reaches the otel
// global error handler.
type exportFailures struct {
	logger  *slog.Logger
	now     func() time.Time
	metrics atomic.Pointer[Metrics]
	last    atomic.Int64 // unix nanoseconds of the last warning
}

func (f *exportFailures) report(signal string, err error) {
	if m := f.metrics.Load(); m != nil {
		m.exportError(signal)
	}
	now := f.now().UnixNano()
	last := f.last.Load()
	if (last == 0 || now-last >= int64(failureLogEvery)) && f.last.CompareAndSwap(last, now) {
		f.logger.Warn("telemetry export failed, data dropped", slog.String("signal", signal), slog.Any("error", err))
	}
}

// safeSpanExporter reports failures instead of returning them.
type safeSpanExporter struct {
	sdktrace.SpanExporter
	failures *exportFailures
}

// ExportSpans implements sdktrace.SpanExporter.
func (e *safeSpanExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	if err := e.SpanExporter.ExportSpans(ctx, spans); err != nil {
		e.failures.report("traces", err)
	}
	return nil
}

// safeMetricExporter reports failures instead of returning them.
type safeMetricExporter struct {
	sdkmetric.Exporter
	failures *exportFailures
}

// Export implements sdkmetric.Exporter.
func (e *safeMetricExporter) Export(ctx context.Context, rm *metricdata.ResourceMetrics) error {
	if err := e.Exporter.Export(ctx, rm); err != nil {
		e.failures.report("metrics", err)
	}
	return nil
}

var (
	_ sdktrace.SpanExporter = (*safeSpanExporter)(nil)
	_ sdkmetric.Exporter    = (*safeMetricExporter)(nil)
)
