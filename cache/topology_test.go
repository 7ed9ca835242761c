package cache_test

import (
	"context"
	"testing"
	"time"

	"github.com/aligngate/aligngate/cache"
	"github.com/aligngate/aligngate/cache/cachetest"
)

// TestTopologies runs the cache on a Redis Cluster and through a Sentinel,
// built from the URL alone as in production config.
func TestTopologies(t *testing.T) {
	for name, url := range map[string]func(t *testing.T) string{
		"cluster":  func(t *testing.T) string { return cachetest.StartCluster(t).URL() },
		"sentinel": func(t *testing.T) string { return cachetest.StartSentinel(t, cachetest.StartRedis(t)).URL() },
	} {
		t.Run(name, func(t *testing.T) {
			cfg := testConfig(t, url(t))
			cfg.MemoryBytes = -1
			a, b := newCache(t, cfg), newCache(t, cfg)
			comp := &counter{text: "t"}
			expect(t, a, "k", comp, cache.OutcomeMiss, "first")
			expect(t, a, "k", comp, cache.OutcomeHit, "again")
			expect(t, b, "k", comp, cache.OutcomeHit, "other replica")

			r, err := cache.NewRedis(cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			ctx := context.Background()
			lock := cfg.Prefix + "lock:x"
			steps := []struct {
				name string
				run  func() (bool, error)
				want bool
			}{
				{"lock", func() (bool, error) { return r.Lock(ctx, lock, "me", time.Minute) }, true},
				{"lock taken", func() (bool, error) { return r.Lock(ctx, lock, "other", time.Minute) }, false},
				{"refresh own", func() (bool, error) { return r.Refresh(ctx, lock, "me", time.Minute) }, true},
				{"refresh other", func() (bool, error) { return r.Refresh(ctx, lock, "other", time.Minute) }, false},
				{"unlock other is no-op", func() (bool, error) { return true, r.Unlock(ctx, lock, "other") }, true},
				{"still locked", func() (bool, error) { return r.Lock(ctx, lock, "other", time.Minute) }, false},
				{"unlock own", func() (bool, error) { return true, r.Unlock(ctx, lock, "me") }, true},
				{"free again", func() (bool, error) { return r.Lock(ctx, lock, "other", time.Minute) }, true},
			}
			for _, s := range steps {
				if got, err := s.run(); err != nil || got != s.want {
					t.Fatalf("%s: %t, %v; want %t", s.name, got, err, s.want)
				}
			}
		})
	}
}
