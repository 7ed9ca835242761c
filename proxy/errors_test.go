package proxy

import (
	"errors"
	"net/http"
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
