package telemetry

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"go.opentelemetry.io/otel/trace"
)

// minSecretLen is the shortest configured secret that is scrubbed: shorter
// values would shred every log line and protect nothing.
const minSecretLen = 4

// tokenPatterns match credentials that look like credentials whatever their
// source: bearer and basic authorization values, OpenAI-style keys, and
// key=value pairs whose key names a secret (query strings, DSNs).
var tokenPatterns = []struct {
	re   *regexp.Regexp
	repl string
}{
	{regexp.MustCompile(`(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=:-]+`), "$1 " + redactedValue},
	{regexp.MustCompile(`\bsk-[A-Za-z0-9_-]{6,}`), redactedValue},
	{regexp.MustCompile(`(?i)\b((?:api[_-]?key|access[_-]?token|auth[_-]?token|token|password|passwd|secret|key)=)[^&\s"',;]+`), "${1}" + redactedValue},
	{regexp.MustCompile(`(?i)(://[^:/@\s]+:)[^@/\s]+@`), "${1}" + redactedValue + "@"},
}

// sensitiveKeys are attribute keys (lowercased, punctuation removed) whose
// values are dropped outright.
var sensitiveKeys = setOf(
	"authorization", "proxyauthorization", "apikey", "xapikey", "password", "passwd",
	"secret", "clientsecret", "token", "accesstoken", "refreshtoken", "idtoken",
	"authtoken", "bearer", "cookie", "setcookie", "credential", "credentials", "privatekey",
)

// sensitiveSuffixes catch prefixed names such as upstream_api_key.
var sensitiveSuffixes = []string{"apikey", "password", "secret", "authtoken", "accesstoken", "authorization"}

// contentKeys (normalized like sensitiveKeys) name attributes that carry
// prompts or answers; their text is dropped unless content capture is on.
var contentKeys = setOf(
	"prompt", "prompts", "messages", "messagecontent", "content", "answer", "completion",
	"responsebody", "requestbody", "body", "input", "output", "text", "question",
)

func setOf(keys ...string) map[string]bool {
	m := make(map[string]bool, len(keys))
	for _, k := range keys {
		m[k] = true
	}
	return m
}

// redactor scrubs secrets out of strings and attributes.
type redactor struct {
	secrets        *strings.Replacer // nil when no secret is configured
	captureContent bool
}

func newRedactor(secrets []string, captureContent bool) *redactor {
	r := &redactor{captureContent: captureContent}
	var kept []string
	for _, s := range secrets {
		if len(s) >= minSecretLen && !slices.Contains(kept, s) {
			kept = append(kept, s)
		}
	}
	// Longest first so a secret containing another is replaced whole.
	slices.SortFunc(kept, func(a, b string) int { return len(b) - len(a) })
	if len(kept) > 0 {
		pairs := make([]string, 0, 2*len(kept))
		for _, s := range kept {
			pairs = append(pairs, s, redactedValue)
		}
		r.secrets = strings.NewReplacer(pairs...)
	}
	return r
}

// String returns s with configured secrets and credential-looking tokens
// replaced by [REDACTED].
func (r *redactor) String(s string) string {
	if r.secrets != nil {
		s = r.secrets.Replace(s)
	}
	if !mayHoldToken(s) {
		return s
	}
	for _, p := range tokenPatterns {
		s = p.re.ReplaceAllString(s, p.repl)
	}
	return s
}

// mayHoldToken is a one-pass filter in front of the regular expressions: it
// looks for '=', "sk-", "://", "bearer" and "basic" (any case).
func mayHoldToken(s string) bool {
	if len(s) < 8 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '=':
			return true
		case '-':
			if i >= 2 && s[i-2] == 's' && s[i-1] == 'k' {
				return true
			}
		case ':':
			if strings.HasPrefix(s[i+1:], "//") {
				return true
			}
		case 'b', 'B':
			if hasPrefixFold(s[i+1:], "earer") || hasPrefixFold(s[i+1:], "asic") {
				return true
			}
		}
	}
	return false
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// dropKey reports whether an attribute with this key and value must not be
// logged. Content keys only drop text-like values: a count named "output"
// says nothing about the answer.
func (r *redactor) dropKey(key string, v slog.Value) bool {
	var buf [64]byte
	k := normalizeKey(buf[:0], key)
	if sensitiveKeys[string(k)] { // no allocation: the compiler special-cases this lookup
		return true
	}
	for _, suf := range sensitiveSuffixes {
		if len(k) >= len(suf) && string(k[len(k)-len(suf):]) == suf {
			return true
		}
	}
	if r.captureContent || !contentKeys[string(k)] {
		return false
	}
	switch v.Kind() {
	case slog.KindString, slog.KindAny, slog.KindGroup:
		return true
	}
	return false
}

// normalizeKey appends key to b lowercased, keeping only letters and digits.
func normalizeKey(b []byte, key string) []byte {
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case c >= 'A' && c <= 'Z':
			b = append(b, c+'a'-'A')
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			b = append(b, c)
		}
	}
	return b
}

// Attr returns a scrubbed copy of a and whether to keep it at all.
func (r *redactor) Attr(a slog.Attr) (slog.Attr, bool) {
	v := a.Value.Resolve()
	if r.dropKey(a.Key, v) {
		return slog.Attr{}, false
	}
	a.Value = r.Value(v)
	return a, true
}

// clean reports whether a is kept and left unchanged by Attr.
func (r *redactor) clean(a slog.Attr) bool {
	v := a.Value
	if v.Kind() == slog.KindLogValuer || r.dropKey(a.Key, v) {
		return false
	}
	switch v.Kind() {
	case slog.KindString:
		s := v.String()
		return r.String(s) == s
	case slog.KindGroup:
		for _, g := range v.Group() {
			if !r.clean(g) {
				return false
			}
		}
		return true
	case slog.KindAny:
		return false
	default:
		return true
	}
}

// Value scrubs v; values of unknown type are rendered to a string first so
// that nothing (an http.Header, a struct holding a key) escapes unscrubbed.
func (r *redactor) Value(v slog.Value) slog.Value {
	switch v.Kind() {
	case slog.KindString:
		return slog.StringValue(r.String(v.String()))
	case slog.KindGroup:
		return slog.GroupValue(r.Attrs(v.Group())...)
	case slog.KindAny:
		return r.any(v.Any())
	default:
		return v
	}
}

func (r *redactor) any(x any) slog.Value {
	switch x := x.(type) {
	case nil:
		return slog.AnyValue(nil)
	case error:
		return slog.StringValue(r.String(x.Error()))
	case http.Header:
		attrs := make([]slog.Attr, 0, len(x))
		for k, vs := range x {
			attrs = append(attrs, slog.String(k, strings.Join(vs, ", ")))
		}
		return slog.GroupValue(r.Attrs(attrs)...)
	default:
		return slog.StringValue(r.String(fmt.Sprintf("%+v", x)))
	}
}

// Attrs scrubs a list, dropping sensitive keys.
func (r *redactor) Attrs(as []slog.Attr) []slog.Attr {
	out := make([]slog.Attr, 0, len(as))
	for _, a := range as {
		if a, ok := r.Attr(a); ok {
			out = append(out, a)
		}
	}
	return out
}

// Handler is a slog.Handler that scrubs every record before passing it on:
// configured secrets and credential-looking tokens are replaced in the
// message and in all attribute values (nested groups included), attributes
// with sensitive keys (authorization, api_key, password, token...) are
// dropped, and so are content attributes (prompt, messages, answer...) unless
// content capture is on. When the record's context carries a span, trace_id
// and span_id are added.
type Handler struct {
	next slog.Handler
	r    *redactor
}

// NewHandler wraps next. Secrets shorter than four bytes are ignored.
func NewHandler(next slog.Handler, secrets []string, captureContent bool) *Handler {
	return &Handler{next: next, r: newRedactor(secrets, captureContent)}
}

// Enabled implements slog.Handler.
func (h *Handler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

// Handle implements slog.Handler. A record with nothing to scrub (the
// common case, such as the request line) is passed on without a copy.
func (h *Handler) Handle(ctx context.Context, rec slog.Record) error {
	clean, hasTrace := h.inspect(rec)
	out := rec
	if !clean {
		out = slog.NewRecord(rec.Time, rec.Level, h.r.String(rec.Message), rec.PC)
		rec.Attrs(func(a slog.Attr) bool {
			if a, ok := h.r.Attr(a); ok {
				out.AddAttrs(a)
			}
			return true
		})
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() && !hasTrace {
		if clean {
			out = rec.Clone()
		}
		out.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	return h.next.Handle(ctx, out)
}

// inspect reports whether rec passes scrubbing unchanged, and whether it
// already carries a trace_id.
func (h *Handler) inspect(rec slog.Record) (clean, hasTrace bool) {
	clean = h.r.String(rec.Message) == rec.Message
	rec.Attrs(func(a slog.Attr) bool {
		hasTrace = hasTrace || a.Key == "trace_id"
		clean = clean && h.r.clean(a)
		return true
	})
	return clean, hasTrace
}

// WithAttrs implements slog.Handler; the attributes are scrubbed once here.
func (h *Handler) WithAttrs(as []slog.Attr) slog.Handler {
	return &Handler{next: h.next.WithAttrs(h.r.Attrs(as)), r: h.r}
}

// WithGroup implements slog.Handler.
func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{next: h.next.WithGroup(name), r: h.r}
}

var _ slog.Handler = (*Handler)(nil)
