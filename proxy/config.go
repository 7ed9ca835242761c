package proxy

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/aligngate/aligngate/glob"
)

// Config is the proxy's own part of the configuration file: the server,
// upstreams and timeouts sections. The composite file format is assembled
// by the command; the proxy receives only this.
type Config struct {
	Server    ServerConfig `yaml:"server"`
	Upstreams []Upstream   `yaml:"upstreams"`
	Timeouts  Timeouts     `yaml:"timeouts"`
}

// ServerConfig configures the listening side.
type ServerConfig struct {
	// Listen is the address to serve on. Default ":8080".
	Listen string `yaml:"listen"`
	// ReadHeaderTimeout bounds reading a request's headers. Default 10s.
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	// MaxBodyBytes is the largest request body accepted (413 above). Default 32 MiB.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// BodyTimeout bounds the wait for each read of a request body,
	// refreshed as bytes arrive; a stalled body gets 408 and its
	// connection is closed. Default 30s.
	BodyTimeout time.Duration `yaml:"body_timeout"`
}

// Upstream is one OpenAI-compatible server requests are forwarded to.
type Upstream struct {
	// Name identifies the upstream in logs and metrics. Required.
	Name string `yaml:"name"`
	// BaseURL is the upstream's API root including its version path,
	// e.g. "https://api.openai.com/v1". Required.
	BaseURL string `yaml:"base_url"`
	// APIKey, when set, replaces the client's Authorization header.
	APIKey string `yaml:"api_key"`
	// ForwardClientAuth says whether the client's Authorization header is
	// forwarded to this upstream (chat, completions, the /v1/models merge,
	// every other route). Nil: only when APIKey is empty. APIKey, when set,
	// always replaces the client's header.
	ForwardClientAuth *bool `yaml:"forward_client_auth"`
	// Models are globs (package glob: `*` crosses `/`) matched against the
	// request's model; the first upstream that matches wins. Empty matches
	// nothing except through the default rule: requests whose model
	// matches no upstream go to the first upstream.
	Models []string `yaml:"models"`
	// Drive selects how Stream Aligner drives this upstream: "follow"
	// (any upstream) or "guide" (upstream accepts an assistant prefix to
	// continue). Default: correct.drive.
	Drive string `yaml:"drive"`
}

// Timeouts bound each phase of an upstream call.
type Timeouts struct {
	// Connect bounds dialing the upstream. Default 5s.
	Connect time.Duration `yaml:"connect"`
	// FirstByte bounds the wait for the upstream's response headers. Default 60s.
	FirstByte time.Duration `yaml:"first_byte"`
	// Idle bounds the gap between two chunks of a streamed response. Default 60s.
	Idle time.Duration `yaml:"idle"`
	// Total bounds a whole upstream exchange. Default 10m.
	Total time.Duration `yaml:"total"`
}

// DefaultConfig returns the proxy's defaults: a passthrough to OpenAI.
func DefaultConfig() *Config {
	c := &Config{}
	c.SetDefaults()
	return c
}

// SetDefaults fills every unset field with its documented default.
func (c *Config) SetDefaults() {
	if c.Server.Listen == "" {
		c.Server.Listen = ":8080"
	}
	if c.Server.ReadHeaderTimeout == 0 {
		c.Server.ReadHeaderTimeout = 10 * time.Second
	}
	if c.Server.MaxBodyBytes == 0 {
		c.Server.MaxBodyBytes = 32 << 20
	}
	setDuration(&c.Server.BodyTimeout, 30*time.Second)
	if len(c.Upstreams) == 0 {
		c.Upstreams = []Upstream{{Name: "openai", BaseURL: "https://api.openai.com/v1"}}
	}
	setDuration(&c.Timeouts.Connect, 5*time.Second)
	setDuration(&c.Timeouts.FirstByte, 60*time.Second)
	setDuration(&c.Timeouts.Idle, 60*time.Second)
	setDuration(&c.Timeouts.Total, 10*time.Minute)
}

func setDuration(d *time.Duration, def time.Duration) {
	if *d == 0 {
		*d = def
	}
}

// Validate reports every problem found, each naming the key at fault.
func (c *Config) Validate() error {
	var errs []error
	if c.Server.MaxBodyBytes < 0 {
		errs = append(errs, fmt.Errorf("server.max_body_bytes: must be positive, got %d", c.Server.MaxBodyBytes))
	}
	if c.Server.ReadHeaderTimeout < 0 {
		errs = append(errs, errors.New("server.read_header_timeout: must be positive"))
	}
	if c.Server.BodyTimeout < 0 {
		errs = append(errs, fmt.Errorf("server.body_timeout: must be positive, got %s", c.Server.BodyTimeout))
	}
	if len(c.Upstreams) == 0 {
		errs = append(errs, errors.New("upstreams: at least one upstream is required"))
	}
	names := map[string]bool{}
	for i, u := range c.Upstreams {
		errs = append(errs, u.validate(fmt.Sprintf("upstreams[%d]", i), names))
	}
	for key, d := range map[string]time.Duration{
		"timeouts.connect": c.Timeouts.Connect, "timeouts.first_byte": c.Timeouts.FirstByte,
		"timeouts.idle": c.Timeouts.Idle, "timeouts.total": c.Timeouts.Total,
	} {
		if d < 0 {
			errs = append(errs, fmt.Errorf("%s: must be positive, got %s", key, d))
		}
	}
	return errors.Join(errs...)
}

func (u Upstream) validate(key string, seen map[string]bool) error {
	var errs []error
	if u.Name == "" {
		errs = append(errs, fmt.Errorf("%s.name: required", key))
	} else if seen[u.Name] {
		errs = append(errs, fmt.Errorf("%s.name: duplicate upstream name %q", key, u.Name))
	}
	seen[u.Name] = true
	if err := checkBaseURL(u.BaseURL); err != nil {
		errs = append(errs, fmt.Errorf("%s.base_url: %w", key, err))
	}
	for j, g := range u.Models {
		if err := glob.Check(g); err != nil {
			errs = append(errs, fmt.Errorf("%s.models[%d]: bad glob %q: %w", key, j, g, err))
		}
	}
	if u.Drive != "" && u.Drive != "follow" && u.Drive != "guide" {
		errs = append(errs, fmt.Errorf("%s.drive: must be follow or guide, got %q", key, u.Drive))
	}
	return errors.Join(errs...)
}

func checkBaseURL(raw string) error {
	if raw == "" {
		return errors.New("required")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("not a URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("scheme must be http or https, got %q", raw)
	}
	if u.Host == "" {
		return fmt.Errorf("missing host in %q", raw)
	}
	return nil
}

// Redacted returns a copy safe to log: upstream keys blanked.
func (c Config) Redacted() Config {
	c.Upstreams = append([]Upstream(nil), c.Upstreams...)
	for i := range c.Upstreams {
		if c.Upstreams[i].APIKey != "" {
			c.Upstreams[i].APIKey = "REDACTED"
		}
	}
	return c
}

// Secrets lists the upstream keys, for log scrubbing.
func (c *Config) Secrets() []string {
	var s []string
	for _, u := range c.Upstreams {
		if u.APIKey != "" {
			s = append(s, u.APIKey)
		}
	}
	return s
}
