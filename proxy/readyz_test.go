package proxy

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aligngate/aligngate/cache"
	"github.com/aligngate/aligngate/cache/cachetest"
	"github.com/aligngate/aligngate/correct"
	"github.com/aligngate/aligngate/policies"
)

func readyz(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestReadyzReportsCacheOutage: while Redis fails, /readyz stays 200 (the
// cache fails open) and says the cache is degraded; once Redis answers
// again it says ready alone.
func TestReadyzReportsCacheOutage(t *testing.T) {
	noLeaks(t)
	redis := cachetest.StartRedis(t)
	be := &backend{respond: fixed("Better.")}
	bts := be.server(t)
	up := httptest.NewServer((&recorder{}).handler(200, okChat))
	t.Cleanup(up.Close)
	cfg := defaultTestConfig()
	cfg.Upstreams = []Upstream{{Name: "test", BaseURL: up.URL + "/v1"}}
	cfg.Policies.Default.Mode = "aligner"
	cfg.Correct.Backend = correct.BackendRemote
	cfg.Correct.Remote.BaseURL = bts.URL + "/v1"
	cfg.Correct.Remote.Model = "aligner"
	cfg.Cache.RedisURL = redis.URL()
	cfg.Cache.MemoryBytes = -1
	cfg.Cache.Timeout = 2 * time.Second
	cfg.SetDefaults()
	store, err := cache.New(cfg.Cache, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	remote, err := correct.NewRemote(cfg.Correct.Remote, &http.Client{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cor, err := correct.New(cfg.Correct, map[string]correct.Model{correct.BackendRemote: remote}, store, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(&cfg.Config, Options{Policies: policies.NewEngine(&cfg.Policies), Corrector: cor,
		Correction: cfg.settings(), CacheDegraded: store.Degraded})
	if err != nil {
		t.Fatal(err)
	}
	px := httptest.NewServer(s.Handler())
	t.Cleanup(px.Close)
	t.Cleanup(func() { _ = s.Close() })

	if code, body := readyz(t, px.URL); code != 200 || body != `{"status":"ready"}` {
		t.Fatalf("before the outage: %d %s", code, body)
	}
	redis.Stop()
	if resp, body := post(t, px.URL+"/v1/chat/completions", question); resp.Header.Get(headerCache) != "error" {
		t.Fatalf("with Redis down: cache %q: %s", resp.Header.Get(headerCache), body)
	}
	if code, body := readyz(t, px.URL); code != 200 || body != `{"status":"ready","cache":"degraded"}` {
		t.Fatalf("during the outage: %d %s", code, body)
	}
	redis.Restart()
	// The first requests may still meet dead pooled connections, or the
	// store's skip window; one reaches Redis again soon.
	for i := 0; ; i++ {
		if resp, _ := post(t, px.URL+"/v1/chat/completions", question); resp.Header.Get(headerCache) != "error" {
			break
		}
		if i == 100 {
			t.Fatal("Redis never answered again")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if code, body := readyz(t, px.URL); code != 200 || body != `{"status":"ready"}` {
		t.Fatalf("after the outage: %d %s", code, body)
	}
}
