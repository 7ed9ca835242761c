package proxy

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestUIMounted checks that Options.UI serves /ui and every path under it,
// and that without it /ui is the proxy's 404.
func TestUIMounted(t *testing.T) {
	ui := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ui:"+r.URL.Path)
	})
	for _, withUI := range []bool{true, false} {
		cfg := defaultTestConfig()
		cfg.Upstreams = []Upstream{{Name: "test", BaseURL: "http://127.0.0.1:1/v1"}}
		cfg.SetDefaults()
		opts := Options{}
		if withUI {
			opts.UI = ui
		}
		s, err := New(&cfg.Config, opts)
		if err != nil {
			t.Fatal(err)
		}
		ts := httptest.NewServer(s.Handler())
		t.Cleanup(func() { _ = s.Close() })
		for _, p := range []string{"/ui", "/ui/", "/ui/api/records/3"} {
			res, err := http.Get(ts.URL + p)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			switch {
			case withUI && string(b) != "ui:"+p:
				t.Errorf("GET %s with UI: %d %q, want the UI handler", p, res.StatusCode, b)
			case !withUI && res.StatusCode != http.StatusNotFound:
				t.Errorf("GET %s without UI: %d, want 404", p, res.StatusCode)
			}
		}
		ts.Close()
	}
}
