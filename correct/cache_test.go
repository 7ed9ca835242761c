package correct

import (
	"context"
	"testing"
	"time"

	"github.com/aligngate/aligngate/cache"
)

// newMemoryCache returns the real cache, memory only.
func newMemoryCache(t *testing.T) *cache.Cache {
	t.Helper()
	c, err := cache.New(cache.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var _ Cache = (*cache.Cache)(nil)

func TestAlignWithCachePackage(t *testing.T) {
	m := &fakeModel{by: upper}
	c := newTestCorrector(t, m, newMemoryCache(t), nil)
	r := Request{Question: "q", Answer: "cache me."}
	first, err := c.Align(context.Background(), r, nil)
	if err != nil || first.Cache != "miss" {
		t.Fatalf("%+v %v", first, err)
	}
	var got collector
	second, err := c.Align(context.Background(), r, got.emit)
	if err != nil || second.Cache != "hit" || got.text() != "CACHE ME." || len(m.calls()) != 1 {
		t.Fatalf("%+v %v emitted %q", second, err, got.text())
	}
}

// TestNoPiecesAfterReturn checks that a generation the cache keeps running
// on its own goroutine cannot reach onToken once Align returned.
func TestNoPiecesAfterReturn(t *testing.T) {
	late, finished := make(chan struct{}), make(chan struct{})
	c := newTestCorrector(t, generateFunc(func(ctx context.Context, onToken func(string) error) error {
		defer close(finished)
		_ = onToken("first ")
		<-ctx.Done()
		<-late
		return onToken("second")
	}), newMemoryCache(t), nil)
	var got collector
	out, err := c.Align(context.Background(), Request{Answer: "orig", Budget: 20 * time.Millisecond}, got.emit)
	if err != nil || out.Fallback != FallbackTimeout || !out.Partial || out.Text != "orig" {
		t.Fatalf("%+v %v", out, err)
	}
	close(late)
	<-finished
	if got.text() != "first" {
		t.Errorf("emitted %q after returning", got.text())
	}
}
