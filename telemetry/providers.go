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

func newOTLPMetricReader(ctx context.Context, cfg MetricsConfig, failures *exportFailures) (sdkmetric.Reader, error) {
	var (
		exp sdkmetric.Exporter
		err error
	)
	switch cfg.OTLPExporter {
	case ExporterOTLPHTTP:
		opts := []otlpmetrichttp.Option{otlpmetrichttp.WithTimeout(cfg.Timeout), otlpmetrichttp.WithHeaders(cfg.Headers),
			otlpmetrichttp.WithRetry(otlpmetrichttp.RetryConfig{Enabled: true, InitialInterval: time.Second, MaxInterval: 5 * time.Second, MaxElapsedTime: cfg.Timeout})}
		switch {
		case isURL(cfg.Endpoint):
			opts = append(opts, otlpmetrichttp.WithEndpointURL(cfg.Endpoint))
		case cfg.Endpoint != "":
			opts = append(opts, otlpmetrichttp.WithEndpoint(cfg.Endpoint))
		}
		if cfg.Insecure {
			opts = append(opts, otlpmetrichttp.WithInsecure())
		}
		exp, err = otlpmetrichttp.New(ctx, opts...)
	case ExporterOTLPGRPC:
		opts := []otlpmetricgrpc.Option{otlpmetricgrpc.WithTimeout(cfg.Timeout), otlpmetricgrpc.WithHeaders(cfg.Headers),
			otlpmetricgrpc.WithRetry(otlpmetricgrpc.RetryConfig{Enabled: true, InitialInterval: time.Second, MaxInterval: 5 * time.Second, MaxElapsedTime: cfg.Timeout})}
		switch {
		case isURL(cfg.Endpoint):
			opts = append(opts, otlpmetricgrpc.WithEndpointURL(cfg.Endpoint))
		case cfg.Endpoint != "":
			opts = append(opts, otlpmetricgrpc.WithEndpoint(cfg.Endpoint))
		}
		if cfg.Insecure {
			opts = append(opts, otlpmetricgrpc.WithInsecure())
		}
		exp, err = otlpmetricgrpc.New(ctx, opts...)
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
	)
	switch cfg.Exporter {
	case ExporterOTLPHTTP:
		opts := []otlptracehttp.Option{otlptracehttp.WithTimeout(cfg.Timeout), otlptracehttp.WithHeaders(cfg.Headers),
			otlptracehttp.WithRetry(otlptracehttp.RetryConfig{Enabled: true, InitialInterval: time.Second, MaxInterval: 5 * time.Second, MaxElapsedTime: cfg.Timeout})}
		switch {
		case isURL(cfg.Endpoint):
			opts = append(opts, otlptracehttp.WithEndpointURL(cfg.Endpoint))
		case cfg.Endpoint != "":
			opts = append(opts, otlptracehttp.WithEndpoint(cfg.Endpoint))
		}
		if cfg.Insecure {
			opts = append(opts, otlptracehttp.WithInsecure())
		}
		exp, err = otlptracehttp.New(ctx, opts...)
	case ExporterOTLPGRPC:
		opts := []otlptracegrpc.Option{otlptracegrpc.WithTimeout(cfg.Timeout), otlptracegrpc.WithHeaders(cfg.Headers),
			otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig{Enabled: true, InitialInterval: time.Second, MaxInterval: 5 * time.Second, MaxElapsedTime: cfg.Timeout})}
		switch {
		case isURL(cfg.Endpoint):
			opts = append(opts, otlptracegrpc.WithEndpointURL(cfg.Endpoint))
		case cfg.Endpoint != "":
			opts = append(opts, otlptracegrpc.WithEndpoint(cfg.Endpoint))
		}
		if cfg.Insecure {
			opts = append(opts, otlptracegrpc.WithInsecure())
		}
		exp, err = otlptracegrpc.New(ctx, opts...)
	}
	if err != nil {
		return nil, fmt.Errorf("telemetry: otlp span exporter: %w", err)
	}
	return exp, nil
}

// newTracerProvider samples parent-based at cfg.SampleRatio and, when exp is
// set, exports through a bounded, non-blocking batch processor.
func newTracerProvider(cfg TracesConfig, res *resource.Resource, exp sdktrace.SpanExporter, failures *exportFailures) *sdktrace.TracerProvider {
	opts := []sdktrace.TracerProviderOption{
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(cfg.SampleRatio))),
	}
	if exp != nil {
		opts = append(opts, sdktrace.WithBatcher(&safeSpanExporter{SpanExporter: exp, failures: failures},
			sdktrace.WithMaxQueueSize(cfg.QueueSize),
			sdktrace.WithExportTimeout(cfg.Timeout)))
	}
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
