package dashboard

import (
	"errors"
	"fmt"
	"time"
)

// ErrInvalidConfig is wrapped by every error Validate returns.
var ErrInvalidConfig = errors.New("dashboard: invalid config")

// maxRingSize bounds RingSize: records can hold whole answers.
const maxRingSize = 100_000

// Config configures the dashboard.
type Config struct {
	// AdminKey is the key a browser logs in with (or sends as a bearer
	// token). Empty disables the dashboard: every path answers 404.
	// The composite config maps server.admin_key here.
	AdminKey string `yaml:"admin_key"`
	// RingSize is how many recent records are kept in memory. Default 500.
	RingSize int `yaml:"ring_size"`
	// EvalReport is the JSON summary `aligngate eval` writes; the page
	// shows it when the file exists. Default "" (none).
	EvalReport string `yaml:"eval_report"`
	// SampleEvery is how often metrics are sampled for the charts.
	// Default 10s.
	SampleEvery time.Duration `yaml:"sample_every"`
	// History is how far back the charts go. Default 1h.
	History time.Duration `yaml:"history"`
	// CaptureContent reports whether questions and answers may be shown;
	// a record's own capture flag must be set too. The composite config
	// maps telemetry.capture_content here. Default false.
	CaptureContent bool `yaml:"-"`
}

// Enabled reports whether the dashboard is served.
func (c Config) Enabled() bool { return c.AdminKey != "" }

// SetDefaults fills unset fields.
func (c *Config) SetDefaults() {
	if c.RingSize == 0 {
		c.RingSize = 500
	}
	if c.SampleEvery == 0 {
		c.SampleEvery = 10 * time.Second
	}
	if c.History == 0 {
		c.History = time.Hour
	}
}

// Validate checks a config after SetDefaults.
func (c Config) Validate() error {
	switch {
	case c.RingSize < 1 || c.RingSize > maxRingSize:
		return fmt.Errorf("%w: dashboard.ring_size %d: want 1..%d", ErrInvalidConfig, c.RingSize, maxRingSize)
	case c.SampleEvery < 100*time.Millisecond:
		return fmt.Errorf("%w: dashboard.sample_every %s: want at least 100ms", ErrInvalidConfig, c.SampleEvery)
	case c.History < c.SampleEvery:
		return fmt.Errorf("%w: dashboard.history %s: shorter than sample_every", ErrInvalidConfig, c.History)
	}
	return nil
}

// Redacted returns a copy safe to log.
func (c Config) Redacted() Config {
	if c.AdminKey != "" {
		c.AdminKey = "[REDACTED]"
	}
	return c
}

// samples is how many chart samples History holds.
func (c Config) samples() int { return int(c.History/c.SampleEvery) + 1 }
