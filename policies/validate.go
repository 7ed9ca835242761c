package policies

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"

	"github.com/aligngate/aligngate/glob"
)

// ErrInvalid is wrapped by every validation error.
var ErrInvalid = errors.New("invalid policy")

// FieldError is a validation error that names the key at fault, e.g.
// `policies.rules[2].match.model`.
type FieldError struct {
	Key string // full key path
	Err error  // what is wrong; wraps ErrInvalid or ErrBadGlob
}

// Error implements error.
func (e *FieldError) Error() string { return e.Key + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *FieldError) Unwrap() error { return e.Err }

// validator collects field errors under a key prefix.
type validator struct{ errs []error }

func (v *validator) add(key string, format string, args ...any) {
	v.errs = append(v.errs, &FieldError{Key: key, Err: fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)})
}

func (v *validator) oneOf(key, val string, allowed ...string) {
	if val == "" {
		return
	}
	for _, a := range allowed {
		if val == a {
			return
		}
	}
	v.add(key, "%q is not one of %q", val, allowed)
}

func (v *validator) glob(key, pattern string) {
	if pattern == "" {
		return
	}
	if err := glob.Check(pattern); err != nil {
		v.errs = append(v.errs, &FieldError{Key: key, Err: fmt.Errorf("bad glob %q: %w", pattern, err)})
	}
}

// Validate checks the section and returns every problem found, each a
// *FieldError naming its key, joined with errors.Join. Call SetDefaults
// first; Validate does not modify c.
func (c Config) Validate() error {
	var v validator
	const root = "policies"
	v.action(root+".default", c.Default)
	names := map[string]bool{}
	for i, r := range c.Rules {
		key := root + ".rules[" + strconv.Itoa(i) + "]"
		if r.Name != "" && names[r.Name] {
			v.add(key+".name", "duplicate rule name %q", r.Name)
		}
		names[r.Name] = true
		v.match(key+".match", r.Match)
		v.action(key+".action", r.Action)
	}
	exps := map[string]bool{}
	for i, e := range c.Experiments {
		key := root + ".experiments[" + strconv.Itoa(i) + "]"
		v.uniqueName(key+".name", "experiment", e.Name, exps)
		v.experiment(key, e)
	}
	v.records(root+".records", c.Records)
	return errors.Join(v.errs...)
}

// uniqueName requires a non-empty name not yet in seen, and adds it.
func (v *validator) uniqueName(key, kind, name string, seen map[string]bool) {
	switch {
	case name == "":
		v.add(key, "required")
	case seen[name]:
		v.add(key, "duplicate %s name %q", kind, name)
	}
	seen[name] = true
}

func (v *validator) action(key string, a Action) {
	v.oneOf(key+".mode", a.Mode, ModeOff, ModeAligner, ModeStream)
	v.oneOf(key+".backend", a.Backend, BackendLocal, BackendRemote)
	v.oneOf(key+".fail", a.Fail, FailOpen, FailClosed)
	if t := a.Temperature; t != nil && (*t < 0 || *t > 2 || isNaN32(*t)) {
		v.add(key+".temperature", "%v is outside [0, 2]", *t)
	}
	if p := a.TopP; p != nil && (*p <= 0 || *p > 1 || isNaN32(*p)) {
		v.add(key+".top_p", "%v is outside (0, 1]", *p)
	}
	if m := a.MaxTokens; m != nil && *m < 0 {
		v.add(key+".max_tokens", "%d is negative", *m)
	}
	if b := a.Budget; b != nil && *b < 0 {
		v.add(key+".budget", "%v is negative", *b)
	}
}

func isNaN32(f float32) bool { return math.IsNaN(float64(f)) }

func (v *validator) match(key string, m Match) {
	v.glob(key+".model", m.Model)
	v.glob(key+".route", m.Route)
	for i, k := range m.ClientKeys {
		if !isSHA256Hex(k) {
			v.add(key+".client_keys["+strconv.Itoa(i)+"]", "not a lowercase hex SHA-256 digest (keys are never stored in clear)")
		}
	}
	for _, name := range slices.Sorted(maps.Keys(m.Headers)) {
		if name == "" {
			v.add(key+".headers", "empty header name")
		}
		v.glob(key+".headers."+name, m.Headers[name])
	}
	for _, k := range slices.Sorted(maps.Keys(m.Metadata)) {
		v.glob(key+".metadata."+k, m.Metadata[k])
	}
}

func isSHA256Hex(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func (v *validator) experiment(key string, e Experiment) {
	v.match(key+".match", e.Match)
	switch e.Unit {
	case UnitUser, UnitClientKey:
	case UnitHeader:
		if e.UnitHeader == "" {
			v.add(key+".unit_header", "required when unit is header")
		}
	case "":
		v.add(key+".unit", "required (user, client_key or header)")
	default:
		v.add(key+".unit", "%q is not one of user, client_key, header", e.Unit)
	}
	if len(e.Arms) == 0 {
		v.add(key+".arms", "at least one arm is required")
	}
	var total float64
	arms := map[string]bool{}
	for i, a := range e.Arms {
		ak := key + ".arms[" + strconv.Itoa(i) + "]"
		v.uniqueName(ak+".name", "arm", a.Name, arms)
		if a.Weight < 0 || math.IsNaN(a.Weight) || math.IsInf(a.Weight, 0) {
			v.add(ak+".weight", "%v must be a finite number >= 0", a.Weight)
		} else {
			total += a.Weight
		}
		v.action(ak+".action", a.Action)
	}
	if len(e.Arms) > 0 && total <= 0 {
		v.add(key+".arms", "weights must not all be zero")
	}
}

func (v *validator) records(key string, r RecordsConfig) {
	v.oneOf(key+".sink", r.Sink, SinkFile, SinkRedis, SinkOff)
	if r.MaxBytes < 0 {
		v.add(key+".max_bytes", "%d is negative", r.MaxBytes)
	}
	if r.MaxBackups < 0 {
		v.add(key+".max_backups", "%d is negative", r.MaxBackups)
	}
	if r.Buffer < 0 {
		v.add(key+".buffer", "%d is negative", r.Buffer)
	}
	if r.MaxLen < 0 {
		v.add(key+".max_len", "%d is negative", r.MaxLen)
	}
	if r.Sink == SinkRedis && r.RedisURL == "" {
		v.add(key+".redis_url", "required when sink is redis")
	}
}

// ErrBadGlob reports a syntax error in a glob pattern (the one dialect of
// package glob, where `*` crosses `/`).
var ErrBadGlob = glob.ErrSyntax
