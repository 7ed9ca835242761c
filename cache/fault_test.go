package cache_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aligngate/aligngate/cache"
	"github.com/aligngate/aligngate/cache/cachetest"
)

func TestRedisDownThenBack(t *testing.T) {
	srv := cachetest.StartRedis(t)
	for _, memory := range []bool{false, true} {
		name := map[bool]string{false: "redis only", true: "layered"}[memory]
		t.Run(name, func(t *testing.T) {
			cfg := testConfig(t, srv.URL())
			if !memory {
				cfg.MemoryBytes = -1
			}
			c := newCache(t, cfg)
			comp := &counter{text: "t"}

			// Background traffic across the whole outage: no call may fail.
			stop := make(chan struct{})
			var bg sync.WaitGroup
			var bgCalls, bgFailures atomic.Int64
			bg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					if text, _, err := c.Do(context.Background(), "bg", "m", comp.compute); err != nil || text != "t" {
						bgFailures.Add(1)
					}
					bgCalls.Add(1)
				}
			})

			expect(t, c, "k1", comp, cache.OutcomeMiss, "before outage")
			expect(t, c, "k1", comp, cache.OutcomeHit, "before outage")
			srv.Stop()
			expect(t, c, "k2", comp, cache.OutcomeError, "during outage, new key")
			want := cache.OutcomeError
			if memory {
				want = cache.OutcomeHit // the memory layer still has it
			}
			expect(t, c, "k1", comp, want, "during outage, old key")
			if c.Stats().StoreErrors == 0 {
				t.Fatal("store errors not counted")
			}
			srv.Restart() // empty: the data died with the process
			// A fresh key per try: in layered mode a failed try still fills memory.
			var key string
			eventually(t, "the cache to reach Redis again", func() bool {
				key = rand.Text()
				_, outcome, err := c.Do(context.Background(), key, "m", comp.compute)
				return err == nil && outcome == cache.OutcomeMiss
			})
			expect(t, c, key, comp, cache.OutcomeHit, "after restart")
			// Another replica finds it: it is in Redis, not only in memory.
			expect(t, newCache(t, cfg), key, comp, cache.OutcomeHit, "other replica after restart")
			close(stop)
			bg.Wait()
			if bgFailures.Load() != 0 || bgCalls.Load() == 0 {
				t.Fatalf("background calls: %d failed of %d", bgFailures.Load(), bgCalls.Load())
			}
		})
	}
}

func TestCorruptValueIsMissAndOverwritten(t *testing.T) {
	addr := cachetest.Redis(t)
	cfg := testConfig(t, "redis://"+addr)
	cfg.MemoryBytes = -1
	c := newCache(t, cfg)
	rc := rawClient(t, addr)
	for i, garbage := range []string{"not json{", `{"text":"no creation time"}`, `[1,2]`, "\x00\xff"} {
		key := "k" + string(rune('a'+i))
		if err := rc.Set(context.Background(), cfg.Prefix+key, garbage, time.Hour).Err(); err != nil {
			t.Fatal(err)
		}
		comp := &counter{text: "recomputed"}
		if got := do(t, c, key, comp); got != cache.OutcomeMiss || comp.calls.Load() != 1 {
			t.Fatalf("%q: outcome %s, computes %d; want miss, 1", garbage, got, comp.calls.Load())
		}
		var e cache.Entry
		if err := json.Unmarshal([]byte(rc.Get(context.Background(), cfg.Prefix+key).Val()), &e); err != nil || e.Text != "recomputed" {
			t.Fatalf("%q not overwritten: %+v, %v", garbage, e, err)
		}
		if got := do(t, c, key, comp); got != cache.OutcomeHit {
			t.Fatalf("%q: after overwrite: %s, want hit", garbage, got)
		}
	}
	if st := c.Stats(); st.Corrupt != 4 || st.Errors != 0 {
		t.Fatalf("stats = %+v, want 4 corrupt and no errors", st)
	}
}

// silentServer accepts connections and never answers: the slowest Redis.
func silentServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return l.Addr().String()
}

func TestSlowRedisTimesOut(t *testing.T) {
	const timeout = 50 * time.Millisecond
	for _, tt := range []struct {
		name string
		addr func(t *testing.T) string
	}{
		{"silent listener", silentServer},
		{"paused redis", func(t *testing.T) string {
			srv := cachetest.StartRedis(t)
			// Every client's commands hang for 3s; ours must not wait for it.
			if err := rawClient(t, srv.Addr()).Do(context.Background(), "CLIENT", "PAUSE", 3000, "ALL").Err(); err != nil {
				t.Fatal(err)
			}
			return srv.Addr()
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(t, "redis://"+tt.addr(t))
			cfg.Timeout = timeout
			c := newCache(t, cfg)
			// The whole call must end long before this generous budget; the
			// store ops use their own short timeout inside it.
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			text, outcome, err := c.Do(ctx, "k", "m", (&counter{text: "computed"}).compute)
			if err != nil || text != "computed" || outcome != cache.OutcomeError {
				t.Fatalf("Do = %q, %s, %v; want computed text, error outcome", text, outcome, err)
			}
			if ctx.Err() != nil {
				t.Fatal("Do only returned when the caller's context expired, not within the store timeout")
			}
		})
	}
}

func TestNewSucceedsWhileRedisDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close() // nothing listens there now
	cfg := testConfig(t, "redis://"+addr)
	c := newCache(t, cfg)
	text, outcome, err := c.Do(context.Background(), "k", "m", (&counter{text: "t"}).compute)
	if err != nil || text != "t" || outcome != cache.OutcomeError {
		t.Fatalf("Do = %q, %s, %v", text, outcome, err)
	}
	r, err := cache.NewRedis(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Ping(context.Background()); !errors.Is(err, cache.ErrStore) {
		t.Fatalf("Ping = %v, want ErrStore", err)
	}
}

func TestLayeredBackfillsFront(t *testing.T) {
	srv := cachetest.StartRedis(t)
	cfg := testConfig(t, srv.URL())
	a, b := newCache(t, cfg), newCache(t, cfg)
	comp := &counter{text: "t"}
	expect(t, a, "k", comp, cache.OutcomeMiss, "A")
	expect(t, b, "k", comp, cache.OutcomeHit, "B from Redis")
	srv.Stop()
	// B's memory layer was filled by the Redis hit, so it needs no Redis now.
	expect(t, b, "k", comp, cache.OutcomeHit, "B with Redis down")
	if comp.calls.Load() != 1 || b.Stats().StoreErrors != 0 {
		t.Fatalf("computes = %d, B store errors = %d; want 1, 0", comp.calls.Load(), b.Stats().StoreErrors)
	}
}

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestOutageLoggedOnceAndRecoveryLogged(t *testing.T) {
	srv := cachetest.StartRedis(t)
	var logs syncBuffer
	cfg := testConfig(t, srv.URL())
	cfg.MemoryBytes = -1
	c, err := cache.New(cfg, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	comp := &counter{text: "t"}
	srv.Stop()
	for i := range 50 {
		expect(t, c, fmt.Sprint("k", i), comp, cache.OutcomeError, "during outage")
	}
	if n := strings.Count(logs.String(), "redis unavailable"); n != 1 {
		t.Fatalf("%d outage lines for 50 failing calls within 10s, want 1:\n%s", n, logs.String())
	}
	srv.Restart()
	eventually(t, "Redis to answer again", func() bool {
		_, outcome, err := c.Do(context.Background(), rand.Text(), "m", comp.compute)
		return err == nil && outcome == cache.OutcomeMiss
	})
	if !strings.Contains(logs.String(), "redis reachable again") {
		t.Fatalf("recovery not logged:\n%s", logs.String())
	}
}
