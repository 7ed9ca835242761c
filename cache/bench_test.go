package cache_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aligngate/aligngate/cache"
	"github.com/aligngate/aligngate/cache/cachetest"
)

// benchText is a typical corrected answer (about 2 KB).
var benchText = strings.Repeat("A corrected sentence of a typical answer. ", 48)

const benchKey = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

func benchHit(b *testing.B, cfg cache.Config) {
	c := newCache(b, cfg)
	compute := func(context.Context) (string, error) { return benchText, nil }
	ctx := context.Background()
	if _, _, err := c.Do(ctx, benchKey, "m", compute); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, outcome, _ := c.Do(ctx, benchKey, "m", compute); outcome != cache.OutcomeHit {
			b.Fatalf("outcome %s, want hit", outcome)
		}
	}
}

func BenchmarkDoHitMemory(b *testing.B) { benchHit(b, testConfig(b, "")) }

func BenchmarkDoHitRedis(b *testing.B) {
	cfg := testConfig(b, cachetest.RedisURL(b))
	cfg.MemoryBytes = -1
	benchHit(b, cfg)
}

func BenchmarkDoHitLayered(b *testing.B) { benchHit(b, testConfig(b, cachetest.RedisURL(b))) }

// BenchmarkNoCache is the baseline: calling compute directly.
func BenchmarkNoCache(b *testing.B) {
	compute := func(context.Context) (string, error) { return benchText, nil }
	ctx := context.Background()
	for b.Loop() {
		if _, err := compute(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDoHitMemoryParallel shows lock contention on the memory store.
func BenchmarkDoHitMemoryParallel(b *testing.B) {
	c := newCache(b, testConfig(b, ""))
	compute := func(context.Context) (string, error) { return benchText, nil }
	if _, _, err := c.Do(context.Background(), benchKey, "m", compute); err != nil {
		b.Fatal(err)
	}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, outcome, _ := c.Do(context.Background(), benchKey, "m", compute); outcome != cache.OutcomeHit {
				b.Errorf("outcome %s, want hit", outcome)
				return
			}
		}
	})
}
