package telemetry

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestSetDefaults(t *testing.T) {
	var c Config
	c.SetDefaults()
	if c.ServiceName != "aligngate" || c.Log.Format != FormatJSON || c.Log.Level != "info" ||
		c.Traces.Exporter != ExporterNone || c.Traces.SampleRatio != 1 || c.Traces.Timeout != 10*time.Second ||
		c.Traces.QueueSize != 2048 || !c.Metrics.PrometheusEnabled() || c.Metrics.OTLPExporter != ExporterNone ||
		c.Metrics.Interval != 30*time.Second {
		t.Errorf("defaults %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("defaults do not validate: %v", err)
	}
	off := false
	c = Config{Metrics: MetricsConfig{Prometheus: &off}, Traces: TracesConfig{SampleRatio: 0.25}}
	c.SetDefaults()
	if c.Metrics.PrometheusEnabled() || c.Traces.SampleRatio != 0.25 {
		t.Errorf("SetDefaults overrode explicit values: %+v", c)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*Config)
		field string // "" means valid
	}{
		{"defaults", func(*Config) {}, ""},
		{"text logs", func(c *Config) { c.Log.Format = FormatText; c.Log.Level = "DEBUG" }, ""},
		{"otlp", func(c *Config) { c.Traces.Exporter = ExporterOTLPGRPC; c.Metrics.OTLPExporter = ExporterOTLPHTTP }, ""},
		{"bad format", func(c *Config) { c.Log.Format = "xml" }, "log.format"},
		{"bad level", func(c *Config) { c.Log.Level = "loud" }, "log.level"},
		{"bad exporter", func(c *Config) { c.Traces.Exporter = "jaeger" }, "traces.exporter"},
		{"ratio above 1", func(c *Config) { c.Traces.SampleRatio = 1.5 }, "traces.sample_ratio"},
		{"negative ratio", func(c *Config) { c.Traces.SampleRatio = -0.1 }, "traces.sample_ratio"},
		{"negative timeout", func(c *Config) { c.Traces.Timeout = -time.Second }, "traces.timeout"},
		{"bad metrics exporter", func(c *Config) { c.Metrics.OTLPExporter = "statsd" }, "metrics.otlp_exporter"},
		{"negative interval", func(c *Config) { c.Metrics.Interval = -time.Second }, "metrics.interval"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Config
			c.SetDefaults()
			tt.edit(&c)
			err := c.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tt.field) {
				t.Fatalf("error %v, want ErrInvalidConfig naming %s", err, tt.field)
			}
			if _, err := New(context.Background(), c, Options{}); !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("New accepted an invalid config: %v", err)
			}
		})
	}
}

func TestRedactedMasksHeaders(t *testing.T) {
	c := Config{Traces: TracesConfig{Headers: map[string]string{"x-honeycomb-team": "hc-key-123456"}}}
	r := c.Redacted()
	if r.Traces.Headers["x-honeycomb-team"] != redactedValue {
		t.Errorf("Redacted kept %q", r.Traces.Headers["x-honeycomb-team"])
	}
	if c.Traces.Headers["x-honeycomb-team"] != "hc-key-123456" {
		t.Error("Redacted modified the original")
	}
}

func TestExporterHeadersAreScrubbedFromLogs(t *testing.T) {
	h := newHarness(t, Config{Traces: TracesConfig{Headers: map[string]string{"x-team": "hc-key-123456"}}}, Options{})
	h.tel.Logger.Info("exporter configured with hc-key-123456")
	if strings.Contains(h.logs.String(), "hc-key-123456") {
		t.Errorf("exporter header value logged: %s", h.logs.String())
	}
}

func TestRoute(t *testing.T) {
	tests := map[string]string{
		"/v1/chat/completions":  "/v1/chat/completions",
		"/v1/chat/completions/": "/v1/chat/completions",
		"/v1/completions":       "/v1/completions",
		"/v1/models":            "/v1/models",
		"/v1/embeddings":        "/v1/embeddings",
		"/healthz":              "/healthz",
		"/readyz":               "/readyz",
		"/metrics":              "/metrics",
		"/v1/models/gpt-4":      "/v1/other",
		"/v1/files":             "/v1/other",
		"/v1/responses":         "/v1/responses",
		"/v1/responses/resp_1":  "/v1/other",
		"/v2/chat":              "other",
		"/":                     "other",
		"":                      "other",
		"/wp-login.php":         "other",
	}
	for path, want := range tests {
		if got := Route(path); got != want {
			t.Errorf("Route(%q) = %q, want %q", path, got, want)
		}
	}
}
