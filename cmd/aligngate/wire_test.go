package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aligngate/aligngate/config"
	"github.com/aligngate/aligngate/policies"
)

// TestDashboardWired checks that build mounts the dashboard at /ui when an
// admin key is set, behind that key, and not at all without one.
func TestDashboardWired(t *testing.T) {
	for _, key := range []string{"wire-test-key", ""} {
		cfg := config.Default()
		cfg.Policies.Records.Sink = "off"
		cfg.Dashboard.AdminKey = key
		a, err := build(context.Background(), cfg, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		ts := httptest.NewServer(a.srv.Handler())
		status := func(path, bearer string) int {
			req, _ := http.NewRequest(http.MethodGet, ts.URL+path, nil)
			if bearer != "" {
				req.Header.Set("Authorization", "Bearer "+bearer)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			return res.StatusCode
		}
		if key == "" {
			if got := status("/ui/", ""); got != http.StatusNotFound {
				t.Errorf("no admin key: GET /ui/ = %d, want 404", got)
			}
		} else {
			if got := status("/ui/api/summary", ""); got != http.StatusUnauthorized {
				t.Errorf("GET /ui/api/summary without the key = %d, want 401", got)
			}
			if got := status("/ui/api/summary", key); got != http.StatusOK {
				t.Errorf("GET /ui/api/summary with the key = %d, want 200", got)
			}
			// The proxy's recorder is the dashboard, which forwards.
			if a.ui == nil {
				t.Fatal("app has no dashboard")
			}
			a.ui.Record(policies.Record{Experiment: "e", Arm: "a"})
		}
		ts.Close()
		a.close(context.Background())
	}
}
