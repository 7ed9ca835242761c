package proxy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// rawRequest sends target as the literal request-target of one HTTP/1.1
// request, so no client library cleans or re-encodes it, and returns the
// response with its body read.
func rawRequest(t *testing.T, srv *httptest.Server, method, target, body string) (*http.Response, []byte) {
	t.Helper()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		method, target, len(body), body)
	req, _ := http.NewRequest(method, "/", nil)
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// TestTraversalRefused: paths that leave /v1/, plainly or encoded, are
// answered 400 with an OpenAI-shaped error and never reach the upstream.
func TestTraversalRefused(t *testing.T) {
	rec := &recorder{}
	up := httptest.NewServer(rec.handler(200, okChat))
	defer up.Close()
	px := newProxy(t, up.URL, func(c *testConfig) { c.Upstreams[0].APIKey = "sk-own" })
	for _, target := range []string{
		"/v1/../admin", "/v1/%2e%2e/admin", "/v1/chat/..%2f..%2fadmin", "/v1/%2e%2e/%2e%2e/etc/passwd",
		"/v1/chat/../../admin", "/v1/%252e%252e/admin", "/v1\\..\\admin",
	} {
		for _, method := range []string{"GET", "POST"} {
			resp, b := rawRequest(t, px, method, target, `{"model":"m","messages":[]}`)
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("%s %s: status %d: %s", method, target, resp.StatusCode, b)
				continue
			}
			e := decodeError(t, b)
			if e.Error.Code == nil || !strings.HasPrefix(*e.Error.Code, "invalid_path") {
				t.Errorf("%s %s: code %v", method, target, e.Error.Code)
			}
		}
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.calls != 0 {
		t.Errorf("upstream saw %d requests, last %s", rec.calls, rec.path)
	}
}

// TestNonCanonicalChatIsCorrected: other spellings of the chat route are
// routed as the route itself, validated and corrected, and the upstream
// receives the canonical path.
func TestNonCanonicalChatIsCorrected(t *testing.T) {
	be := &backend{respond: fixed("Good answer.")}
	bts := be.server(t)
	rec := &recorder{}
	up := httptest.NewServer(rec.handler(200, chatAnswer))
	defer up.Close()
	px := correctingProxy(t, up.URL, bts.URL, "aligner", nil)
	for _, target := range []string{"/v1//chat/completions", "/v1/chat/completions/", "/v1/chat/./completions", "/v1/x/../chat/completions"} {
		resp, b := rawRequest(t, px, "POST", target, `{"model":"gpt-x","messages":[{"role":"user","content":"Q?"}]}`)
		if resp.StatusCode != 200 || resp.Header.Get(headerMode) != "aligner" || resp.Header.Get(headerCorrected) != "true" {
			t.Errorf("%s: status %d headers %v: %s", target, resp.StatusCode, resp.Header, b)
			continue
		}
		if !strings.Contains(string(b), "Good answer.") || strings.Contains(string(b), "Bad answer.") {
			t.Errorf("%s: not corrected: %s", target, b)
		}
		rec.mu.Lock()
		if rec.path != "/v1/chat/completions" {
			t.Errorf("%s: upstream path %q", target, rec.path)
		}
		rec.mu.Unlock()
		// Validation applies too: a body without messages is refused.
		resp, b = rawRequest(t, px, "POST", target, `{"model":"gpt-x"}`)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s without messages: status %d: %s", target, resp.StatusCode, b)
		}
	}
}

// TestOwnPathsUntouched: health and readiness are served as spelled.
func TestOwnPathsUntouched(t *testing.T) {
	up := httptest.NewServer((&recorder{}).handler(200, okChat))
	defer up.Close()
	px := newProxy(t, up.URL, nil)
	for _, p := range []string{"/healthz", "/readyz"} {
		resp, b := rawRequest(t, px, "GET", p, "")
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d %s", p, resp.StatusCode, b)
		}
	}
}
