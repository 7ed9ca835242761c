package proxy

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestCleanV1Path(t *testing.T) {
	for _, tc := range []struct {
		in    string // escaped, as the client sent it
		want  string
		fault pathFault
	}{
		// Canonical and ordinary paths pass unchanged.
		{"/v1/chat/completions", "/v1/chat/completions", ""},
		{"/v1/completions", "/v1/completions", ""},
		{"/v1/models", "/v1/models", ""},
		{"/v1/files/file-abc/content", "/v1/files/file-abc/content", ""},
		{"/v1/realtime", "/v1/realtime", ""},
		// Non-canonical spellings of corrected routes (issue: correction bypass).
		{"/v1//chat/completions", "/v1/chat/completions", ""},
		{"/v1/chat/completions/", "/v1/chat/completions", ""},
		{"/v1/chat/./completions", "/v1/chat/completions", ""},
		{"/v1/chat//completions", "/v1/chat/completions", ""},
		{"//v1/chat/completions", "/v1/chat/completions", ""},
		{"/v1/./chat/completions/.", "/v1/chat/completions", ""},
		{"/v1/chat/x/../completions", "/v1/chat/completions", ""},
		{"/v1/Chat/Completions", "/v1/chat/completions", ""},
		{"/v1/chat/%63ompletions", "/v1/chat/completions", ""},
		{"/v1/completions/", "/v1/completions", ""},
		{"/v1/responses/", "/v1/responses", ""},
		{"/v1/models/", "/v1/models", ""},
		{"/v1/files/", "/v1/files", ""},
		{"/v1/files/100%25", "/v1/files/100%", ""},
		// Traversal (issue: path traversal), literal and encoded.
		{"/v1/../admin", "", faultTraversal},
		{"/v1/..", "", faultTraversal},
		{"/v1/chat/../../admin", "", faultTraversal},
		{"/v1/x/../..", "", faultTraversal},
		{"/v1/%2e%2e/admin", "", faultEncoded},
		{"/v1/%2E%2E/admin", "", faultEncoded},
		{"/v1/chat/..%2f..%2fadmin", "", faultEncoded},
		{"/v1/chat/..%2F..%2Fadmin", "", faultEncoded},
		{"/v1/%2e%2e/%2e%2e/etc/passwd", "", faultEncoded},
		{"/v1/%252e%252e/admin", "", faultEncoded},
		{"/v1/%25252e%25252e/admin", "", faultEncoded},
		{"/v1/chat%2fcompletions", "", faultEncoded},
		{"/v1/chat%252Fcompletions", "", faultEncoded},
		{"/v1/chat/.%2e/admin", "", faultEncoded},
		{"/v1/%5c..%5cadmin", "", faultEncoded},
		{`/v1\..\admin`, "", faultBackslash},
		{`/v1/chat\completions`, "", faultBackslash},
		// Malformed escapes, control characters, matrix parameters.
		{"/v1/chat/completions%", "", faultInvalid},
		{"/v1/chat/completions%zz", "", faultInvalid},
		{"/v1/chat/completions%00", "", faultInvalid},
		{"/v1/chat/completions%0a", "", faultInvalid},
		{"/v1/chat/completions;x=1", "", faultInvalid},
		{"/v1/chat;/completions", "", faultInvalid},
		// Not under /v1/.
		{"/v1", "", faultNotV1},
		{"/v1/", "", faultNotV1},
		{"/v1/.", "", faultNotV1},
		{"/", "", faultNotV1},
		{"", "", faultNotV1},
		{"/admin", "", faultNotV1},
		{"/V1/chat/completions", "", faultNotV1},
		{"/v2/chat/completions", "", faultNotV1},
		{"/v1x/chat/completions", "", faultNotV1},
	} {
		got, err := cleanV1Path(tc.in)
		var pe *pathError
		switch {
		case tc.fault == "" && err != nil:
			t.Errorf("cleanV1Path(%q): %v, want %q", tc.in, err, tc.want)
		case tc.fault == "" && got != tc.want:
			t.Errorf("cleanV1Path(%q) = %q, want %q", tc.in, got, tc.want)
		case tc.fault != "" && !errors.As(err, &pe):
			t.Errorf("cleanV1Path(%q) = %q, %v; want refusal %s", tc.in, got, err, tc.fault)
		case tc.fault != "" && pe.fault != tc.fault:
			t.Errorf("cleanV1Path(%q): fault %s, want %s", tc.in, pe.fault, tc.fault)
		}
	}
}

func TestPathErrorStatus(t *testing.T) {
	for f, want := range map[pathFault]int{
		faultEncoded: 400, faultBackslash: 400, faultTraversal: 400, faultInvalid: 400, faultNotV1: 404,
	} {
		if got := (&pathError{fault: f}).status(); got != want {
			t.Errorf("%s: status %d, want %d", f, got, want)
		}
	}
}

// TestCleanRequestPath checks the request-level helper against what
// net/http actually parses from a request line: the encoded forms reach
// the handler in RawPath, the literal ones in Path.
func TestCleanRequestPath(t *testing.T) {
	for _, tc := range []struct{ target, want string }{
		{"/v1//chat/completions?x=1", "/v1/chat/completions"},
		{"/v1/chat/./completions/", "/v1/chat/completions"},
		{"/v1/files/a%20b", "/v1/files/a b"},
		{"/v1/%2e%2e/admin", ""},
		{"/v1/chat/..%2f..%2fadmin", ""},
		{"/v1/../admin", ""},
	} {
		r := httptest.NewRequest(http.MethodPost, tc.target, nil)
		err := cleanRequestPath(r)
		if tc.want == "" {
			if err == nil {
				t.Errorf("%s: accepted as %q", tc.target, r.URL.Path)
			}
			continue
		}
		if err != nil || r.URL.Path != tc.want || r.URL.RawPath != "" {
			t.Errorf("%s: path %q raw %q err %v, want %q", tc.target, r.URL.Path, r.URL.RawPath, err, tc.want)
		}
		if r.URL.RawQuery != "x=1" && strings.Contains(tc.target, "?") {
			t.Errorf("%s: query lost: %q", tc.target, r.URL.RawQuery)
		}
	}
}

// escapePath is how a cleaned path travels on: re-escaped by net/url.
func escapePath(p string) string { return (&url.URL{Path: p}).EscapedPath() }

func FuzzCleanPath(f *testing.F) {
	for _, s := range []string{
		"/v1/chat/completions", "/v1//chat/completions", "/v1/chat/completions/", "/v1/chat/./completions",
		"/v1/../admin", "/v1/%2e%2e/admin", "/v1/chat/..%2f..%2fadmin", "/v1/%2e%2e/%2e%2e/etc/passwd",
		"/v1/%252e%252e/x", `/v1\x`, "/v1/files/100%25", "/v1/a/b/../c/./d/", "//v1", "/v1/%41",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := cleanV1Path(in)
		if err != nil {
			var pe *pathError
			if !errors.As(err, &pe) {
				t.Fatalf("cleanV1Path(%q): untyped error %v", in, err)
			}
			return
		}
		if !strings.HasPrefix(got, "/v1/") || len(got) == len("/v1/") {
			t.Fatalf("cleanV1Path(%q) = %q: not below /v1/", in, got)
		}
		if strings.Contains(got, "//") || strings.HasSuffix(got, "/") || strings.Contains(got, `\`) {
			t.Fatalf("cleanV1Path(%q) = %q: not clean", in, got)
		}
		for _, s := range strings.Split(got, "/") {
			if s == "." || s == ".." {
				t.Fatalf("cleanV1Path(%q) = %q: dot segment", in, got)
			}
		}
		again, err := cleanV1Path(escapePath(got))
		if err != nil || again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", in, got, again, err)
		}
	})
}

func TestCleanV1PathLayers(t *testing.T) {
	for _, in := range []string{
		"/v1/%25%32e%25%32e/admin",               // %2e%2e after one decoding
		"/v1/%25%35c",                            // %5c after one decoding
		"/v1/x%25%30%30",                         // %00 after one decoding
		"/v1/%" + strings.Repeat("25", 9) + "41", // nine layers deep
	} {
		if got, err := cleanV1Path(in); err == nil {
			t.Errorf("cleanV1Path(%q) = %q, want refusal", in, got)
		}
	}
}
