package proxy

import (
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aligngate/aligngate/cache"
	"github.com/aligngate/aligngate/cache/cachetest"
)

// cachingProxy serves a proxy in aligner mode whose corrections are cached
// in Redis at redisURL only (no memory layer, so replicas must share).
func cachingProxy(t *testing.T, upURL, beURL, redisURL string) *httptest.Server {
	t.Helper()
	cfg := defaultTestConfig()
	cfg.Upstreams = []Upstream{{Name: "test", BaseURL: upURL + "/v1"}}
	cfg.Policies.Default.Mode = "aligner"
	cfg.Correct.Backend = "remote"
	cfg.Correct.Remote.BaseURL = beURL + "/v1"
	cfg.Correct.Remote.Model = "aligner"
	cfg.Cache.RedisURL = redisURL
	cfg.Cache.MemoryBytes = -1
	// Generous, so a loaded test machine does not turn Redis calls into
	// timeouts (which rightly bypass the lock); outages are tested apart.
	cfg.Cache.Timeout = 2 * time.Second
	cfg.Cache.SetDefaults()
	store, err := cache.New(cfg.Cache, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return startProxy(t, cfg, store)
}

// replicas starts a Redis server, a fake upstream and backend, and two
// caching proxies sharing that Redis.
func replicas(t *testing.T) (be *backend, redis *cachetest.Server, a, b *httptest.Server) {
	t.Helper()
	noLeaks(t) // first: checked after Redis, upstream and backend are closed
	redis = cachetest.StartRedis(t)
	be = &backend{respond: fixed("Better.")}
	bts := be.server(t)
	up := httptest.NewServer((&recorder{}).handler(200, okChat))
	t.Cleanup(up.Close)
	a = cachingProxy(t, up.URL, bts.URL, redis.URL())
	b = cachingProxy(t, up.URL, bts.URL, redis.URL())
	return be, redis, a, b
}

const question = `{"model":"m","messages":[{"role":"user","content":"q"}]}`

func TestTwoReplicasShareCorrections(t *testing.T) {
	be, _, a, b := replicas(t)

	resp, body := post(t, a.URL+"/v1/chat/completions", question)
	if got := resp.Header.Get(headerCache); got != "miss" {
		t.Fatalf("first request cache %q, want miss: %s", got, body)
	}
	resp, body = post(t, b.URL+"/v1/chat/completions", question)
	if got := resp.Header.Get(headerCache); got != "hit" {
		t.Fatalf("second replica cache %q, want hit: %s", got, body)
	}
	if n := be.calls.Load(); n != 1 {
		t.Fatalf("backend calls %d, want 1", n)
	}
}

func TestConcurrentIdenticalRequestsCorrectOnce(t *testing.T) {
	be, _, a, b := replicas(t)
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			px := a
			if i%2 == 1 {
				px = b // half through a second replica, held back by the Redis lock
			}
			resp, body := post(t, px.URL+"/v1/chat/completions", question)
			if resp.StatusCode != 200 || resp.Header.Get(headerCorrected) != "true" {
				t.Errorf("status %d corrected %q: %s", resp.StatusCode, resp.Header.Get(headerCorrected), body)
			}
		}()
	}
	wg.Wait()
	if n := be.calls.Load(); n != 1 {
		t.Fatalf("backend calls %d, want 1", n)
	}
}

func TestRedisOutageNeverFailsRequests(t *testing.T) {
	_, redis, px, _ := replicas(t)
	ask := func() string {
		t.Helper()
		resp, body := post(t, px.URL+"/v1/chat/completions", question)
		if resp.StatusCode != 200 || resp.Header.Get(headerCorrected) != "true" {
			t.Fatalf("status %d corrected %q: %s", resp.StatusCode, resp.Header.Get(headerCorrected), body)
		}
		return resp.Header.Get(headerCache)
	}
	if got := ask(); got != "miss" {
		t.Fatalf("cache %q, want miss", got)
	}
	redis.Stop()
	for i := 0; i < 3; i++ {
		if got := ask(); got != "error" {
			t.Fatalf("with Redis down: cache %q, want error", got)
		}
	}
	redis.Restart()
	// Redis came back empty: the first answers after the restart may still
	// meet dead pooled connections, then one is stored and hits resume.
	for i := 0; ; i++ {
		if ask() == "hit" {
			break
		}
		if i == 20 {
			t.Fatal("no cache hit after Redis restarted")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
