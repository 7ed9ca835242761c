package telemetry

import (
	"errors"
	"fmt"
	"maps"
	"time"
)

// ErrInvalidConfig is wrapped by every error Validate returns.
var ErrInvalidConfig = errors.New("telemetry: invalid config")

// Exporter names accepted by Traces.Exporter and Metrics.OTLPExporter.
const (
	ExporterNone     = "none"
	ExporterOTLPHTTP = "otlphttp"
	ExporterOTLPGRPC = "otlpgrpc"
)

// Log formats accepted by Log.Format.
const (
	FormatJSON = "json"
	FormatText = "text"
)

// redactedValue replaces secrets in logs and in Config.Redacted.
const redactedValue = "[REDACTED]"

// Config is the `telemetry:` section of the aligngate configuration.
type Config struct {
	// ServiceName is the service.name resource attribute. Default "aligngate".
	ServiceName string `yaml:"service_name"`
	// Log configures the structured logger.
	Log LogConfig `yaml:"log"`
	// Traces configures span export and sampling.
	Traces TracesConfig `yaml:"traces"`
	// Metrics configures the Prometheus endpoint and optional OTLP export.
	Metrics MetricsConfig `yaml:"metrics"`
	// CaptureContent puts prompts and answers on spans and lets log
	// attributes named like content (prompt, messages, answer...) through.
	// Default false: content never leaves the process through telemetry.
	CaptureContent bool `yaml:"capture_content"`
}

// LogConfig configures the slog logger.
type LogConfig struct {
	// Format is "json" (default) or "text".
	Format string `yaml:"format"`
	// Level is "debug", "info" (default), "warn" or "error".
	Level string `yaml:"level"`
}

// TracesConfig configures tracing.
type TracesConfig struct {
	// Exporter is "none" (default), "otlphttp" or "otlpgrpc".
	Exporter string `yaml:"exporter"`
	// Endpoint is host:port or a URL (http://collector:4318). Empty means
	// the exporter's default (localhost:4318 for HTTP, localhost:4317 for gRPC).
	Endpoint string `yaml:"endpoint"`
	// Insecure disables TLS when Endpoint is host:port. A URL's scheme
	// decides by itself. Default false.
	Insecure bool `yaml:"insecure"`
	// Headers are sent with every export (collector API keys). Their values
	// are scrubbed from logs. Default none.
	Headers map[string]string `yaml:"headers"`
	// SampleRatio is the fraction of new traces sampled, parent-based: a
	// client's sampled flag is respected. 0 means the default, 1.0.
	SampleRatio float64 `yaml:"sample_ratio"`
	// Timeout bounds one export, retries included. Default 10s.
	Timeout time.Duration `yaml:"timeout"`
	// QueueSize is the batch processor's queue; spans beyond it are dropped,
	// never waited for. Default 2048.
	QueueSize int `yaml:"queue_size"`
}

// MetricsConfig configures metrics.
type MetricsConfig struct {
	// Prometheus serves metrics from MetricsHandler. Default true.
	Prometheus *bool `yaml:"prometheus"`
	// OTLPExporter is "none" (default), "otlphttp" or "otlpgrpc".
	OTLPExporter string `yaml:"otlp_exporter"`
	// Endpoint is host:port or a URL, as for traces. Empty means the
	// exporter's default.
	Endpoint string `yaml:"endpoint"`
	// Insecure disables TLS when Endpoint is host:port. Default false.
	Insecure bool `yaml:"insecure"`
	// Headers are sent with every export; values are scrubbed from logs.
	Headers map[string]string `yaml:"headers"`
	// Interval between OTLP metric exports. Default 30s.
	Interval time.Duration `yaml:"interval"`
	// Timeout bounds one OTLP metric export. Default 10s.
	Timeout time.Duration `yaml:"timeout"`
}

// PrometheusEnabled reports whether /metrics is served (default true).
func (m MetricsConfig) PrometheusEnabled() bool {
	return m.Prometheus == nil || *m.Prometheus
}

// SetDefaults fills unset fields with their documented defaults.
func (c *Config) SetDefaults() {
	setDefault(&c.ServiceName, "aligngate")
	setDefault(&c.Log.Format, FormatJSON)
	setDefault(&c.Log.Level, "info")
	setDefault(&c.Traces.Exporter, ExporterNone)
	if c.Traces.SampleRatio == 0 {
		c.Traces.SampleRatio = 1.0
	}
	if c.Traces.Timeout == 0 {
		c.Traces.Timeout = 10 * time.Second
	}
	if c.Traces.QueueSize == 0 {
		c.Traces.QueueSize = 2048
	}
	if c.Metrics.Prometheus == nil {
		on := true
		c.Metrics.Prometheus = &on
	}
	setDefault(&c.Metrics.OTLPExporter, ExporterNone)
	if c.Metrics.Interval == 0 {
		c.Metrics.Interval = 30 * time.Second
	}
	if c.Metrics.Timeout == 0 {
		c.Metrics.Timeout = 10 * time.Second
	}
}

func setDefault(s *string, v string) {
	if *s == "" {
		*s = v
	}
}

// Validate reports every invalid field, each error wrapping ErrInvalidConfig.
// Call SetDefaults first.
func (c *Config) Validate() error {
	var errs []error
	bad := func(field string, v any, want string) {
		errs = append(errs, fmt.Errorf("%w: telemetry.%s = %v: want %s", ErrInvalidConfig, field, v, want))
	}
	if c.Log.Format != FormatJSON && c.Log.Format != FormatText {
		bad("log.format", c.Log.Format, "json or text")
	}
	if _, err := parseLevel(c.Log.Level); err != nil {
		bad("log.level", c.Log.Level, "debug, info, warn or error")
	}
	if !validExporter(c.Traces.Exporter) {
		bad("traces.exporter", c.Traces.Exporter, "none, otlphttp or otlpgrpc")
	}
	if c.Traces.SampleRatio < 0 || c.Traces.SampleRatio > 1 {
		bad("traces.sample_ratio", c.Traces.SampleRatio, "a ratio in [0, 1]")
	}
	if c.Traces.Timeout < 0 {
		bad("traces.timeout", c.Traces.Timeout, "a positive duration")
	}
	if c.Traces.QueueSize < 0 {
		bad("traces.queue_size", c.Traces.QueueSize, "a positive size")
	}
	if !validExporter(c.Metrics.OTLPExporter) {
		bad("metrics.otlp_exporter", c.Metrics.OTLPExporter, "none, otlphttp or otlpgrpc")
	}
	if c.Metrics.Interval < 0 {
		bad("metrics.interval", c.Metrics.Interval, "a positive duration")
	}
	if c.Metrics.Timeout < 0 {
		bad("metrics.timeout", c.Metrics.Timeout, "a positive duration")
	}
	return errors.Join(errs...)
}

func validExporter(s string) bool {
	switch s {
	case "", ExporterNone, ExporterOTLPHTTP, ExporterOTLPGRPC:
		return true
	}
	return false
}

// Redacted returns a copy safe to log: exporter header values are masked.
func (c Config) Redacted() Config {
	c.Traces.Headers = redactMap(c.Traces.Headers)
	c.Metrics.Headers = redactMap(c.Metrics.Headers)
	return c
}

func redactMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := maps.Clone(m)
	for k := range out {
		out[k] = redactedValue
	}
	return out
}

// secrets lists the configured values that must never appear in logs.
func (c Config) secrets() []string {
	var s []string
	for _, v := range c.Traces.Headers {
		s = append(s, v)
	}
	for _, v := range c.Metrics.Headers {
		s = append(s, v)
	}
	return s
}
