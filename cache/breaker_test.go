package cache

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aligngate/aligngate/cache/cachetest"
)

func TestRedisSkipsAfterRepeatedFailuresThenProbes(t *testing.T) {
	srv := cachetest.StartRedis(t)
	r, err := NewRedis(Config{RedisURL: srv.URL(), Timeout: 500 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	now := time.Unix(1000, 0)
	r.now = func() time.Time { return now }
	ctx := context.Background()
	get := func() error { _, err := r.Get(ctx, "aligngate:test:breaker"); return err }

	srv.Stop()
	for i := range tripAfter {
		if err := get(); !errors.Is(err, ErrStore) || errors.Is(err, errOpen) {
			t.Fatalf("failure %d: %v, want a real store error", i+1, err)
		}
	}
	if err := get(); !errors.Is(err, errOpen) || !errors.Is(err, ErrStore) {
		t.Fatalf("after %d failures: %v, want a fast skip", tripAfter, err)
	}
	srv.Restart()
	if err := get(); !errors.Is(err, errOpen) {
		t.Fatalf("still within the skip window: %v, want a skip", err)
	}
	now = now.Add(openFor)
	if err := get(); !errors.Is(err, ErrMiss) {
		t.Fatalf("probe after the window: %v, want a plain miss", err)
	}
	// The success reset everything: one new failure does not skip Redis.
	srv.Stop()
	if err := get(); errors.Is(err, errOpen) {
		t.Fatalf("first failure after recovery skipped: %v", err)
	}
	if err := get(); errors.Is(err, errOpen) {
		t.Fatalf("second failure after recovery skipped: %v", err)
	}
}

func TestRedisCallerLeavingIsNoFailure(t *testing.T) {
	r, err := NewRedis(Config{RedisURL: "redis://" + cachetest.Redis(t)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for range 2 * tripAfter {
		_, _ = r.Get(ctx, "aligngate:test:left")
	}
	if _, err := r.Get(context.Background(), "aligngate:test:left"); !errors.Is(err, ErrMiss) {
		t.Fatalf("after callers left: %v, want a miss (Redis is fine)", err)
	}
}
