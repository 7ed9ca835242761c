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
var sensitiveKeys = []string{
	"authorization", "proxyauthorization", "apikey", "xapikey", "password", "passwd",
	"secret", "clientsecret", "token", "accesstoken", "refreshtoken", "idtoken",
	"authtoken", "bearer", "cookie", "setcookie", "credential", "credentials", "privatekey",
}

// sensitiveSuffixes catch prefixed names such as upstream_api_key.
var sensitiveSuffixes = []string{"apikey", "password", "secret", "authtoken", "accesstoken", "authorization"}

// contentKeys name attributes that carry prompts or answers; they are
// dropped unless content capture is on.
var contentKeys = []string{
	"prompt", "prompts", "messages", "message_content", "content", "answer", "completion",
	"response_body", "request_body", "body", "input", "output", "text", "question",
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

// mayHoldToken is a cheap filter in front of the regular expressions.
func mayHoldToken(s string) bool {
	if len(s) < 8 {
		return false
	}
	return strings.Contains(s, "sk-") || strings.IndexByte(s, '=') >= 0 || strings.Contains(s, "://") ||
		containsFold(s, "bearer") || containsFold(s, "basic")
}

func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

// dropKey reports whether an attribute with this key and value must not be
// logged. Content keys only drop text-like values: a count named "output"
// says nothing about the answer.
func (r *redactor) dropKey(key string, v slog.Value) bool {
	k := normalizeKey(key)
	if slices.Contains(sensitiveKeys, k) {
		return true
	}
	for _, suf := range sensitiveSuffixes {
		if strings.HasSuffix(k, suf) {
			return true
		}
	}
	if r.captureContent || !slices.Contains(contentKeys, strings.ToLower(key)) {
		return false
	}
	switch v.Kind() {
	case slog.KindString, slog.KindAny, slog.KindGroup:
		return true
	}
	return false
}

func normalizeKey(key string) string {
	b := make([]byte, 0, len(key))
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case c >= 'A' && c <= 'Z':
			b = append(b, c+'a'-'A')
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			b = append(b, c)
		}
	}
	return string(b)
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

// Handle implements slog.Handler.
func (h *Handler) Handle(ctx context.Context, rec slog.Record) error {
	out := slog.NewRecord(rec.Time, rec.Level, h.r.String(rec.Message), rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		if a, ok := h.r.Attr(a); ok {
			out.AddAttrs(a)
		}
		return true
	})
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() && !hasTraceID(rec) {
		out.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	return h.next.Handle(ctx, out)
}

func hasTraceID(rec slog.Record) bool {
	found := false
	rec.Attrs(func(a slog.Attr) bool {
		found = a.Key == "trace_id"
		return !found
	})
	return found
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
