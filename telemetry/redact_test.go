package telemetry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

const (
	upstreamKey = "upstream-KEY-9f8e7d6c5b4a"
	clientToken = "client-tok-0123456789abcdef"
	openaiKey   = "sk-proj-ABCDEFGHIJKLMNOP0123"
	promptText  = "my very private prompt"
	answerText  = "the confidential answer"
)

// leakyHandler logs secrets and content every way a careless handler could.
func leakyHandler(tel *Telemetry) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		l := tel.Logger
		l.DebugContext(ctx, "incoming request",
			"headers", r.Header,
			"authorization", r.Header.Get("Authorization"),
			"Api-Key", upstreamKey,
			slog.Group("upstream", "api_key", upstreamKey, "url", "https://api.example.com/v1?api_key="+upstreamKey,
				slog.Group("auth", "password", "hunter2-long", "header", "Bearer "+clientToken)),
			"note", "using key "+upstreamKey+" and "+openaiKey,
			"err", fmt.Errorf("dial failed with Bearer %s: %w", clientToken, errors.New("refused")),
			"cfg", struct{ Key, Other string }{upstreamKey, openaiKey},
			"prompt", promptText,
			"messages", []string{promptText},
		)
		l.DebugContext(ctx, "calling upstream with "+upstreamKey+" for Bearer "+clientToken)
		l.With("upstream_api_key", upstreamKey, "dsn", "redis://user:"+upstreamKey+"@cache:6379").
			WithGroup("g").InfoContext(ctx, "derived logger", "answer", answerText, "token_hint", openaiKey)
		l.WarnContext(ctx, "content check", slog.String("completion", answerText), slog.Int("output", 34))
		_, _ = w.Write([]byte("ok"))
	})
}

func TestLogsNeverLeakSecretsOrContent(t *testing.T) {
	for _, format := range []string{FormatJSON, FormatText} {
		t.Run(format, func(t *testing.T) {
			h := newHarness(t, Config{Log: LogConfig{Level: "debug", Format: format}}, Options{Secrets: []string{upstreamKey}})
			do(h.tel.Wrap(leakyHandler(h.tel)), http.MethodPost, "/v1/chat/completions?api_key="+upstreamKey, http.Header{
				"Authorization": {"Bearer " + clientToken},
			})
			out := h.logs.String()
			for _, secret := range []string{upstreamKey, clientToken, openaiKey, "hunter2-long", promptText, answerText} {
				if strings.Contains(out, secret) {
					t.Errorf("log output contains %q:\n%s", secret, out)
				}
			}
			for _, want := range []string{"incoming request", "calling upstream with", "derived logger", "content check", "trace_id", "[REDACTED]"} {
				if !strings.Contains(out, want) {
					t.Errorf("log output lacks %q; the handler logs must still be written:\n%s", want, out)
				}
			}
		})
	}
}

func TestContentLoggedWhenCaptureOn(t *testing.T) {
	h := newHarness(t, Config{CaptureContent: true, Log: LogConfig{Level: "debug"}}, Options{Secrets: []string{upstreamKey}})
	do(h.tel.Wrap(leakyHandler(h.tel)), http.MethodPost, "/v1/chat/completions", nil)
	out := h.logs.String()
	if !strings.Contains(out, promptText) || !strings.Contains(out, answerText) {
		t.Errorf("capture_content on, yet content was dropped:\n%s", out)
	}
	if strings.Contains(out, upstreamKey) {
		t.Errorf("capture_content must not let secrets through:\n%s", out)
	}
}

func TestRequestLogLine(t *testing.T) {
	h := newHarness(t, Config{}, Options{})
	app := h.tel.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := Info(r.Context())
		info.Mode, info.Model = "stream", "gpt-x"
		h.tel.Metrics.Assignment(r.Context(), "exp", "a")
		h.tel.Metrics.Cache(r.Context(), CacheHit)
		w.WriteHeader(http.StatusTeapot)
	}))
	do(app, http.MethodPost, "/v1/chat/completions", http.Header{"Traceparent": {"00-" + clientTraceID + "-" + clientSpanID + "-01"}})
	lines := h.logs.lines(t)
	if len(lines) != 1 {
		t.Fatalf("got %d log lines, want exactly one per request", len(lines))
	}
	l := lines[0]
	want := map[string]any{
		"msg": "request", "level": "INFO", "method": "POST", "route": "/v1/chat/completions",
		"status": float64(418), "mode": "stream", "arm": "a", "experiment": "exp", "cache": "hit",
		"model": "gpt-x", "corrected": false, "trace_id": clientTraceID,
	}
	for k, v := range want {
		if l[k] != v {
			t.Errorf("log %s = %v, want %v", k, l[k], v)
		}
	}
	for _, k := range []string{"span_id", "duration_ms"} {
		if _, ok := l[k]; !ok {
			t.Errorf("log line lacks %s: %v", k, l)
		}
	}
	spans := h.flushSpans(t)
	if len(spans) != 1 || l["span_id"] != spans[0].SpanContext.SpanID().String() {
		t.Errorf("log span_id %v does not match the server span", l["span_id"])
	}
}

func TestRedactString(t *testing.T) {
	r := newRedactor([]string{"s3cr3t-value", "abc", "s3cr3t-value-longer"}, false)
	tests := []struct{ in, want string }{
		{"plain text stays", "plain text stays"},
		{"key s3cr3t-value here", "key [REDACTED] here"},
		{"longer s3cr3t-value-longer wins", "longer [REDACTED] wins"},
		{"short abc secrets are ignored", "short abc secrets are ignored"},
		{"Authorization: Bearer eyJhbGciOi.x-y_z", "Authorization: Bearer [REDACTED]"},
		{"authorization: bearer abcdefgh", "authorization: bearer [REDACTED]"},
		{"Basic dXNlcjpwYXNz", "Basic [REDACTED]"},
		{"key sk-abcdefghijkl end", "key [REDACTED] end"},
		{"/v1/x?api_key=zzz123&model=m", "/v1/x?api_key=[REDACTED]&model=m"},
		{"password=hunter2 next", "password=[REDACTED] next"},
		{"redis://user:pa55word@host:6379/0", "redis://user:[REDACTED]@host:6379/0"},
		{"tokens=12 are fine? no: token=abc", "tokens=12 are fine? no: token=[REDACTED]"},
		{"ask-me is not a key", "ask-me is not a key"},
	}
	for _, tt := range tests {
		if got := r.String(tt.in); got != tt.want {
			t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDropKey(t *testing.T) {
	r := newRedactor(nil, false)
	str := slog.StringValue("x")
	tests := []struct {
		key  string
		v    slog.Value
		drop bool
	}{
		{"Authorization", str, true},
		{"X-Api-Key", str, true},
		{"upstream_api_key", str, true},
		{"password", str, true},
		{"token", str, true},
		{"refresh_token", str, true},
		{"Set-Cookie", str, true},
		{"prompt", str, true},
		{"output", str, true},
		{"output", slog.IntValue(3), false},
		{"output_tokens", slog.IntValue(3), false},
		{"route", str, false},
		{"cache", str, false},
	}
	for _, tt := range tests {
		if got := r.dropKey(tt.key, tt.v); got != tt.drop {
			t.Errorf("dropKey(%q, %v) = %v, want %v", tt.key, tt.v, got, tt.drop)
		}
	}
}

// FuzzRedactString checks that a configured secret never survives, whatever
// surrounds it.
func FuzzRedactString(f *testing.F) {
	const secret = "s3cr3t-VALUE-42"
	f.Add("", "")
	f.Add("Bearer ", " tail")
	f.Add("api_key=", "&x=1")
	f.Add("s3cr3t-VAL", "UE-42")
	r := newRedactor([]string{secret}, false)
	f.Fuzz(func(t *testing.T, before, after string) {
		if strings.Contains(before, secret) || strings.Contains(after, secret) {
			t.Skip()
		}
		if got := r.String(before + secret + after); strings.Contains(got, secret) {
			t.Errorf("secret survived: %q", got)
		}
	})
}

func TestHandlerWithoutSpanAddsNoTraceIDs(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(NewHandler(slog.NewJSONHandler(&buf, nil), nil, false))
	l.InfoContext(context.Background(), "hello")
	if strings.Contains(buf.String(), "trace_id") {
		t.Errorf("trace_id without a span: %s", buf.String())
	}
}
