// Package config holds aligngate's configuration: the file format, its
// defaults, environment expansion and validation. Each lower package owns the
// section it consumes (cache.Config, correct.Config, ...); this package
// composes them and owns the proxy's own sections (server, upstreams,
// timeouts). It reads no flags and no environment by itself: the caller passes
// a lookup function.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path"
	"strings"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/aligngate/aligngate/cache"
	"github.com/aligngate/aligngate/correct"
	"github.com/aligngate/aligngate/llamacpp"
	"github.com/aligngate/aligngate/policies"
	"github.com/aligngate/aligngate/telemetry"
)

// Config is the whole configuration of one aligngate process.
type Config struct {
	Server    Server           `yaml:"server"`
	Upstreams []Upstream       `yaml:"upstreams"`
	Timeouts  Timeouts         `yaml:"timeouts"`
	Correct   correct.Config   `yaml:"correct"`
	LlamaCpp  llamacpp.Config  `yaml:"llamacpp"`
	Cache     cache.Config     `yaml:"cache"`
	Policies  policies.Config  `yaml:"policies"`
	Telemetry telemetry.Config `yaml:"telemetry"`
}

// Server configures the listening side.
type Server struct {
	// Listen is the address to serve on. Default ":8080".
	Listen string `yaml:"listen"`
	// ReadHeaderTimeout bounds reading a request's headers. Default 10s.
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	// MaxBodyBytes is the largest request body accepted (413 above). Default 32 MiB.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
}

// Upstream is one OpenAI-compatible server requests are forwarded to.
type Upstream struct {
	// Name identifies the upstream in logs and metrics. Required.
	Name string `yaml:"name"`
	// BaseURL is the upstream's API root including its version path,
	// e.g. "https://api.openai.com/v1". Required.
	BaseURL string `yaml:"base_url"`
	// APIKey, when set, replaces the client's Authorization header.
	// When empty the client's header is forwarded.
	APIKey string `yaml:"api_key"`
	// Models are globs (path.Match syntax) matched against the request's
	// model; the first upstream that matches wins. Empty matches nothing
	// except through the default rule: requests whose model matches no
	// upstream go to the first upstream.
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

// Default returns the embedded defaults: a passthrough to OpenAI.
func Default() *Config {
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
	if len(c.Upstreams) == 0 {
		c.Upstreams = []Upstream{{Name: "openai", BaseURL: "https://api.openai.com/v1"}}
	}
	setDuration(&c.Timeouts.Connect, 5*time.Second)
	setDuration(&c.Timeouts.FirstByte, 60*time.Second)
	setDuration(&c.Timeouts.Idle, 60*time.Second)
	setDuration(&c.Timeouts.Total, 10*time.Minute)
	c.setSectionDefaults()
}

func setDuration(d *time.Duration, def time.Duration) {
	if *d == 0 {
		*d = def
	}
}

// Validate reports the first problem found, naming the key at fault.
func (c *Config) Validate() error {
	var errs []error
	if c.Server.MaxBodyBytes < 0 {
		errs = append(errs, fmt.Errorf("server.max_body_bytes: must be positive, got %d", c.Server.MaxBodyBytes))
	}
	if c.Server.ReadHeaderTimeout < 0 {
		errs = append(errs, errors.New("server.read_header_timeout: must be positive"))
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
	errs = append(errs, c.validateSections()...)
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
		if _, err := path.Match(g, ""); err != nil {
			errs = append(errs, fmt.Errorf("%s.models[%d]: bad glob %q: %w", key, j, g, err))
		}
	}
	if u.Drive != "" && u.Drive != "follow" && u.Drive != "guide" {
		errs = append(errs, fmt.Errorf("%s.drive: must be follow or guide, got %q", key, u.Drive))
	}
	return errors.Join(errs...)
}

// Load reads the file at path, expands ${VAR} and ${VAR:-default} with
// lookup, parses it strictly (unknown keys are errors), fills defaults and
// validates. An empty path yields the defaults.
func Load(filename string, lookup func(string) (string, bool)) (*Config, error) {
	if filename == "" {
		c := Default()
		return c, c.Validate()
	}
	data, err := os.ReadFile(filename)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	c, err := Parse(data, lookup)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", filename, err)
	}
	return c, nil
}

// Parse is Load for bytes already read.
func Parse(data []byte, lookup func(string) (string, bool)) (*Config, error) {
	expanded := Expand(string(data), lookup)
	c := &Config{}
	if len(bytes.TrimSpace([]byte(expanded))) > 0 {
		if err := yaml.UnmarshalWithOptions([]byte(expanded), c, yaml.DisallowUnknownField()); err != nil {
			if msg := badDuration([]byte(expanded)); msg != "" {
				return nil, fmt.Errorf("%s: %w", msg, &parseError{err})
			}
			return nil, &parseError{err}
		}
	}
	c.SetDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// Expand replaces ${VAR} and ${VAR:-default} in s. Unset variables without a
// default expand to the empty string. "$$" stands for a literal "$".
func Expand(s string, lookup func(string) (string, bool)) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '$')
		if i < 0 || i == len(s)-1 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			s = s[i+2:]
		case '{':
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				b.WriteString(s[i:])
				return b.String()
			}
			b.WriteString(expandVar(s[i+2:i+end], lookup))
			s = s[i+end+1:]
		default:
			b.WriteByte('$')
			s = s[i+1:]
		}
	}
}

func expandVar(expr string, lookup func(string) (string, bool)) string {
	name, def, hasDef := strings.Cut(expr, ":-")
	if v, ok := lookup(name); ok && (v != "" || !hasDef) {
		return v
	}
	return def
}

// parseError reports a YAML error without the excerpt of the source the
// library adds: the source has its ${VAR}s expanded and may hold secrets.
type parseError struct{ err error }

func (e *parseError) Error() string { return "parse: " + yaml.FormatError(e.err, false, false) }

func (e *parseError) Unwrap() error { return e.err }
