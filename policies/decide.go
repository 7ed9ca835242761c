package policies

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/aligngate/aligngate/glob"
)

// ModeHeader is the request header a client may use to pick the mode when
// the resolved action allows it.
const ModeHeader = "X-Aligngate-Mode"

// ArmHeader is the response header that names the experiment arm.
const ArmHeader = "X-Aligngate-Arm"

// DefaultRuleName is [Decision.Rule] when no rule matched.
const DefaultRuleName = "default"

// Facts are what a decision may look at. The proxy fills them from the
// request; nothing here is logged or recorded in clear.
type Facts struct {
	Model     string // requested model
	Route     string // request path, e.g. /v1/chat/completions
	ClientKey string // raw bearer key; hashed here, never stored
	User      string // the request's `user` field
	// Header returns a request header's value ("" if absent); nil means
	// no headers.
	Header func(name string) string
	// Metadata is the request's `metadata` object.
	Metadata map[string]string
	// ModeHeader is the value of X-Aligngate-Mode, "" if absent.
	ModeHeader string
}

// Decision is the resolved action for one request.
type Decision struct {
	Mode            string        // off, aligner or stream
	Backend         string        // local, remote, or "" for the correct.backend default
	Template        string        // template name, or "" for the correct.template default
	Temperature     *float32      // nil: backend default
	TopP            *float32      // nil: backend default
	MaxTokens       int           // 0: backend default
	Budget          time.Duration // 0: no correction budget
	FailClosed      bool          // reports whether a failed correction fails the request
	Cache           bool          // reports whether the correction cache may be used
	IncludeOriginal bool          // reports whether the original answer is returned too
	// Rule is the name of the matched rule, or "default".
	Rule string
	// Experiment and Arm name the enrolment; both "" when not enrolled.
	Experiment, Arm string
	// UnitHash is the hex SHA-256 of experiment name and unit, for records.
	UnitHash string
	// CaptureContent reports whether the experiment records content.
	CaptureContent bool
	// ModeFromHeader reports whether the client's X-Aligngate-Mode header
	// chose the mode. Such requests are never enrolled in an experiment,
	// since the client, not the assignment, picked the treatment.
	ModeFromHeader bool
}

// Decide resolves the action for a request. It is pure: no I/O, no clock,
// no randomness. A nil cfg yields the built-in defaults.
//
// A mode header value other than off, aligner or stream (case-insensitive)
// is ignored, as is any value when the resolved action does not allow the
// header.
func Decide(cfg *Config, f Facts) Decision {
	if cfg == nil {
		cfg = &Config{}
	}
	fx := facts{Facts: f}
	act := cfg.Default
	rule := DefaultRuleName
	for i := range cfg.Rules {
		r := &cfg.Rules[i]
		if r.Match.fits(&fx) {
			act = overlay(act, r.Action)
			rule = r.Name
			if rule == "" {
				rule = ruleName(i)
			}
			break
		}
	}
	d := Decision{Rule: rule}
	if m, ok := headerMode(f.ModeHeader); ok && boolOr(act.AllowModeHeader, false) {
		act.Mode = m
		d.ModeFromHeader = true
	} else if exp, arm, unitHash := enrol(cfg.Experiments, &fx); arm != nil {
		act = overlay(act, arm.Action)
		d.Experiment, d.Arm, d.UnitHash = exp.Name, arm.Name, unitHash
		d.CaptureContent = exp.CaptureContent
	}
	d.apply(act)
	return d
}

// apply copies a resolved action into d, filling built-in defaults.
func (d *Decision) apply(a Action) {
	d.Mode = a.Mode
	if d.Mode == "" {
		d.Mode = ModeOff
	}
	d.Backend = a.Backend
	d.Template = a.Template
	d.Temperature = a.Temperature
	d.TopP = a.TopP
	if a.MaxTokens != nil {
		d.MaxTokens = *a.MaxTokens
	}
	if a.Budget != nil {
		d.Budget = *a.Budget
	}
	d.FailClosed = a.Fail == FailClosed
	d.Cache = boolOr(a.Cache, true)
	d.IncludeOriginal = boolOr(a.IncludeOriginal, false)
}

// overlay returns base with every field set in top replacing base's.
func overlay(base, top Action) Action {
	setStr(&base.Mode, top.Mode)
	setStr(&base.Backend, top.Backend)
	setStr(&base.Template, top.Template)
	setStr(&base.Fail, top.Fail)
	setPtr(&base.Temperature, top.Temperature)
	setPtr(&base.TopP, top.TopP)
	setPtr(&base.MaxTokens, top.MaxTokens)
	setPtr(&base.Budget, top.Budget)
	setPtr(&base.Cache, top.Cache)
	setPtr(&base.IncludeOriginal, top.IncludeOriginal)
	setPtr(&base.AllowModeHeader, top.AllowModeHeader)
	return base
}

func setStr(dst *string, v string) {
	if v != "" {
		*dst = v
	}
}

func setPtr[T any](dst **T, v *T) {
	if v != nil {
		*dst = v
	}
}

func boolOr(p *bool, def bool) bool {
	if p == nil {
		return def
	}
	return *p
}

// headerMode parses an X-Aligngate-Mode value.
func headerMode(v string) (string, bool) {
	if v == "" {
		return "", false
	}
	switch m := strings.ToLower(strings.TrimSpace(v)); m {
	case ModeOff, ModeAligner, ModeStream:
		return m, true
	}
	return "", false
}

func ruleName(i int) string { return "rules[" + strconv.Itoa(i) + "]" }

// facts wraps Facts with the lazily computed client key digest, so a
// request pays for SHA-256 only when a matcher needs it, and only once.
type facts struct {
	Facts
	keyHash string
}

func (f *facts) header(name string) string {
	if f.Header == nil {
		return ""
	}
	return f.Header(name)
}

func (f *facts) clientKeyHash() string {
	if f.keyHash == "" && f.ClientKey != "" {
		f.keyHash = HashKey(f.ClientKey)
	}
	return f.keyHash
}

// HashKey returns the lowercase hex SHA-256 of a client key, the form in
// which keys appear in Match.ClientKeys.
func HashKey(key string) string {
	return hexString(sha256.Sum256([]byte(key)))
}

// hexString encodes a digest with a single allocation.
func hexString(sum [sha256.Size]byte) string {
	var buf [2 * sha256.Size]byte
	hex.Encode(buf[:], sum[:])
	return string(buf[:])
}

// fits reports whether the request satisfies every criterion set in m.
func (m *Match) fits(f *facts) bool {
	if m.Model != "" && !glob.Match(m.Model, f.Model) {
		return false
	}
	if m.Route != "" && !glob.Match(m.Route, f.Route) {
		return false
	}
	if len(m.Users) > 0 && (f.User == "" || !contains(m.Users, f.User)) {
		return false
	}
	if len(m.ClientKeys) > 0 && (f.ClientKey == "" || !contains(m.ClientKeys, f.clientKeyHash())) {
		return false
	}
	for name, pat := range m.Headers {
		if !glob.Match(pat, f.header(name)) {
			return false
		}
	}
	for k, pat := range m.Metadata {
		v, ok := f.Metadata[k]
		if !ok || !glob.Match(pat, v) {
			return false
		}
	}
	return true
}

func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}
