// Package config assembles aligngate's configuration file: the format, the
// environment expansion and the composition of the sections. Every section
// is owned by the package that consumes it (proxy.Config for server,
// upstreams and timeouts; cache.Config, correct.Config, ...); this package
// owns none. It reads no flags and no environment by itself: the caller
// passes a lookup function.
//
// Only the command (cmd/...) and the tools under bench/ import it; no
// library package does, so that none links the others' dependencies.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/goccy/go-yaml"

	"github.com/aligngate/aligngate/cache"
	"github.com/aligngate/aligngate/correct"
	"github.com/aligngate/aligngate/dashboard"
	"github.com/aligngate/aligngate/llamacpp"
	"github.com/aligngate/aligngate/policies"
	"github.com/aligngate/aligngate/proxy"
	"github.com/aligngate/aligngate/telemetry"
)

// Config is the whole configuration of one aligngate process: the proxy's
// sections (server, upstreams, timeouts; inlined at the top level of the
// file) and one section per lower package.
type Config struct {
	proxy.Config `yaml:",inline"`
	Correct      correct.Config   `yaml:"correct"`
	LlamaCpp     llamacpp.Config  `yaml:"llamacpp"`
	Cache        cache.Config     `yaml:"cache"`
	Policies     policies.Config  `yaml:"policies"`
	Telemetry    telemetry.Config `yaml:"telemetry"`
	Dashboard    dashboard.Config `yaml:"dashboard"`
}

// Default returns the embedded defaults: a passthrough to OpenAI.
func Default() *Config {
	c := &Config{}
	c.SetDefaults()
	return c
}

// SetDefaults fills every unset field with its documented default.
func (c *Config) SetDefaults() {
	c.Config.SetDefaults()
	c.setSectionDefaults()
}

// Validate reports every problem found, each naming the key at fault.
func (c *Config) Validate() error {
	errs := []error{c.Config.Validate()}
	errs = append(errs, c.validateSections()...)
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
		return nil, &FileError{File: filename, Unset: Unset(data, lookup), Err: err}
	}
	return c, nil
}

// FileError is a configuration file that does not load: every problem
// found, and the environment variables it uses that are unset.
type FileError struct {
	File  string
	Unset []string // see Unset
	Err   error
}

func (e *FileError) Error() string {
	var b strings.Builder
	b.WriteString("config " + e.File)
	if len(e.Unset) > 0 {
		b.WriteString(" (unset environment variables, expanded to \"\": " + strings.Join(e.Unset, ", ") + ")")
	}
	msg := e.Err.Error()
	if !strings.Contains(msg, "\n") {
		return b.String() + ": " + msg
	}
	b.WriteString(":\n  " + strings.ReplaceAll(msg, "\n", "\n  "))
	return b.String()
}

func (e *FileError) Unwrap() error { return e.Err }

// Parse is Load for bytes already read.
func Parse(data []byte, lookup func(string) (string, bool)) (*Config, error) {
	expanded := Expand(string(data), lookup)
	c := &Config{}
	if len(bytes.TrimSpace([]byte(expanded))) > 0 {
		if err := yaml.UnmarshalWithOptions([]byte(expanded), c, yaml.DisallowUnknownField()); err != nil {
			if msg := badDuration([]byte(expanded)); msg != "" {
				return nil, fmt.Errorf("%s: %w", msg, &parseError{err})
			}
			if ke := nameKey([]byte(expanded), err); ke != nil {
				return nil, ke
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

// The proxy's section types, under the names this package gave them before
// the proxy owned them.
type (
	Server   = proxy.ServerConfig
	Upstream = proxy.Upstream
	Timeouts = proxy.Timeouts
)
