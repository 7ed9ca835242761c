package proxy

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aligngate/aligngate/correct"
	"github.com/aligngate/aligngate/wire"
)

// Each fallback reason of a fail-closed correction has its status (this
// table moved here from correct with the mapping).
func TestCorrectionErrorStatus(t *testing.T) {
	tests := []struct {
		reason string
		status int
	}{
		{correct.FallbackTimeout, http.StatusGatewayTimeout},
		{correct.FallbackBackend, http.StatusBadGateway},
		{correct.FallbackBusy, http.StatusTooManyRequests},
		{correct.FallbackTooLong, http.StatusRequestEntityTooLarge},
		{correct.FallbackEmpty, http.StatusBadGateway},
		{correct.FallbackBudget, http.StatusGatewayTimeout},
	}
	for _, tt := range tests {
		e := correctionError(&correct.FallbackError{Reason: tt.reason, Err: errors.New("x")})
		if e.Status != tt.status || *e.Code != "correction_"+tt.reason {
			t.Errorf("%s: status %d code %s, want %d", tt.reason, e.Status, *e.Code, tt.status)
		}
		if busy := tt.reason == correct.FallbackBusy; busy != (e.RetryAfter > 0) || busy != (e.Type == wire.TypeRateLimit) {
			t.Errorf("%s: retry-after %d type %s", tt.reason, e.RetryAfter, e.Type)
		}
	}
	if e := correctionError(errors.New("plain")); e.Status != http.StatusBadGateway {
		t.Errorf("plain error: status %d", e.Status)
	}
}

// Client-facing errors carry a stable code and a short message: transport
// details (hosts, addresses) and backend output stay in the log.
func TestErrorsKeepDetailsOut(t *testing.T) {
	const secret = "10.1.2.3:8443 internal-llm.corp says: raw model output"
	ctx := context.Background()
	for name, e := range map[string]*wire.Error{
		"upstream":         upstreamError(ctx, errors.New("dial tcp "+secret)),
		"correction":       correctionError(errors.New(secret)),
		"fallback":         correctionError(&correct.FallbackError{Reason: correct.FallbackBackend, Err: errors.New(secret)}),
		"fallback timeout": correctionError(&correct.FallbackError{Reason: correct.FallbackTimeout, Err: errors.New(secret)}),
	} {
		if strings.Contains(string(e.Body()), "10.1.2.3") || strings.Contains(string(e.Body()), "raw model output") {
			t.Errorf("%s: the client's error carries internals: %s", name, e.Body())
		}
		if e.Code == nil || *e.Code == "" {
			t.Errorf("%s: no stable code: %s", name, e.Body())
		}
	}
}

// Upstream routing uses the one glob dialect: `*` crosses `/`, so a
// pattern reaches model names with an organisation prefix.
func TestUpstreamGlobCrossesSlash(t *testing.T) {
	u := &upstream{models: []string{"*-8B", "meta-llama/*"}}
	for model, want := range map[string]bool{
		"meta-llama/Llama-3-8B": true, "meta-llama/Llama-3-70B": true, "org/x-8B": true, "gpt-4o": false,
	} {
		if got := u.matches(model); got != want {
			t.Errorf("matches(%q) = %v, want %v", model, got, want)
		}
	}
}
