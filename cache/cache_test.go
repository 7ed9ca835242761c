package cache_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aligngate/aligngate/cache"
	"github.com/aligngate/aligngate/cache/cachetest"
	"github.com/redis/go-redis/v9"
)

// corrector is the interface correct/ declares; *cache.Cache must satisfy it.
type corrector interface {
	Do(ctx context.Context, key, model string, compute func(context.Context) (string, error)) (string, string, error)
}

var _ corrector = (*cache.Cache)(nil)

// counter is a compute function that counts its calls and returns text.
type counter struct {
	calls atomic.Int64
	text  string
	gate  chan struct{} // if set, compute blocks until it is closed
}

func (c *counter) compute(ctx context.Context) (string, error) {
	c.calls.Add(1)
	if c.gate != nil {
		select {
		case <-c.gate:
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	return c.text, nil
}

// testConfig returns a config with a prefix private to this test, so
// tests can share one Redis server.
func testConfig(t testing.TB, redisURL string) cache.Config {
	t.Helper()
	// A generous Redis timeout: other tests' load and -race must not turn
	// hits into errors. Fault tests shorten it.
	c := cache.Config{RedisURL: redisURL, Prefix: "aligngate:test:" + rand.Text()[:8] + ":", Timeout: 2 * time.Second}
	c.SetDefaults()
	if redisURL != "" {
		t.Cleanup(func() { deletePrefix(redisURL, c.Prefix) })
	}
	return c
}

// deletePrefix removes a test's keys from a (possibly shared) server.
func deletePrefix(redisURL, prefix string) {
	opts, err := redis.ParseURL(redisURL)
	if err != nil {
		return
	}
	rc := redis.NewClient(opts)
	defer rc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	keys, _ := rc.Keys(ctx, prefix+"*").Result()
	if len(keys) > 0 {
		rc.Del(ctx, keys...)
	}
}

func newCache(t testing.TB, cfg cache.Config) *cache.Cache {
	t.Helper()
	c, err := cache.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func rawClient(t testing.TB, addr string) *redis.Client {
	t.Helper()
	rc := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { _ = rc.Close() })
	return rc
}

func do(t testing.TB, c *cache.Cache, key string, comp *counter) string {
	t.Helper()
	text, outcome, err := c.Do(context.Background(), key, "aligner", comp.compute)
	if err != nil {
		t.Fatalf("Do(%s): %v", key, err)
	}
	if text != comp.text {
		t.Fatalf("Do(%s) text = %q, want %q", key, text, comp.text)
	}
	return outcome
}

// expect runs do and fails t unless the outcome is want.
func expect(t testing.TB, c *cache.Cache, key string, comp *counter, want, when string) {
	t.Helper()
	if got := do(t, c, key, comp); got != want {
		t.Fatalf("%s: Do(%s) outcome = %s, want %s", when, key, got, want)
	}
}

// eventually polls cond until it holds or a generous deadline passes.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestDoHitMiss(t *testing.T) {
	backends := map[string]func(t *testing.T) cache.Config{
		"memory": func(t *testing.T) cache.Config { return testConfig(t, "") },
		"redis": func(t *testing.T) cache.Config {
			c := testConfig(t, cachetest.RedisURL(t))
			c.MemoryBytes = -1
			return c
		},
		"layered": func(t *testing.T) cache.Config { return testConfig(t, cachetest.RedisURL(t)) },
	}
	for name, cfg := range backends {
		t.Run(name, func(t *testing.T) {
			c := newCache(t, cfg(t))
			comp := &counter{text: "corrected"}
			steps := []struct {
				key, want string
			}{{"k1", cache.OutcomeMiss}, {"k1", cache.OutcomeHit}, {"k2", cache.OutcomeMiss}, {"k1", cache.OutcomeHit}, {"k2", cache.OutcomeHit}}
			for i, s := range steps {
				expect(t, c, s.key, comp, s.want, fmt.Sprint("step ", i))
			}
			if n := comp.calls.Load(); n != 2 {
				t.Fatalf("compute ran %d times, want 2", n)
			}
			if st := c.Stats(); st.Hits != 3 || st.Misses != 2 || st.Errors != 0 {
				t.Fatalf("stats = %+v", st)
			}
		})
	}
}

func TestDoComputeErrorNotCached(t *testing.T) {
	c := newCache(t, testConfig(t, ""))
	boom := errors.New("model failed")
	_, outcome, err := c.Do(context.Background(), "k", "m", func(context.Context) (string, error) { return "", boom })
	if !errors.Is(err, boom) || outcome != cache.OutcomeMiss {
		t.Fatalf("Do = %q, %v; want miss, %v", outcome, err, boom)
	}
	comp := &counter{text: "ok"}
	if got := do(t, c, "k", comp); got != cache.OutcomeMiss || comp.calls.Load() != 1 {
		t.Fatalf("after a failed compute: outcome %s, %d computes; want miss, 1", got, comp.calls.Load())
	}
}

func TestBypass(t *testing.T) {
	cfg := testConfig(t, "")
	c := newCache(t, cfg)
	comp := &counter{text: "t"}
	for range 2 {
		if _, outcome, _ := c.Bypass(context.Background(), comp.compute); outcome != cache.OutcomeBypass {
			t.Fatalf("Bypass outcome = %s", outcome)
		}
	}
	if got := do(t, c, "", comp); got != cache.OutcomeBypass {
		t.Fatalf("empty key outcome = %s, want bypass", got)
	}
	var off *cache.Cache
	if got := do(t, off, "k", comp); got != cache.OutcomeBypass {
		t.Fatalf("nil cache outcome = %s, want bypass", got)
	}
	if comp.calls.Load() != 4 || c.Stats().Bypasses != 3 {
		t.Fatalf("computes = %d, bypasses = %d; want 4, 3", comp.calls.Load(), c.Stats().Bypasses)
	}
}

func TestRedisTTL(t *testing.T) {
	addr := cachetest.Redis(t)
	cfg := testConfig(t, "redis://"+addr)
	r, err := cache.NewRedis(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	ctx := context.Background()
	long, short := cfg.Prefix+"long", cfg.Prefix+"short"
	e := cache.Entry{Text: "t", Model: "m", Created: time.Now()}
	if err := r.Set(ctx, long, e, time.Hour); err != nil {
		t.Fatal(err)
	}
	if ttl := rawClient(t, addr).PTTL(ctx, long).Val(); ttl <= 0 || ttl > time.Hour {
		t.Fatalf("PTTL = %s, want in (0, 1h]", ttl)
	}
	got, err := r.Get(ctx, long)
	if err != nil || got.Text != "t" || got.Expires.IsZero() {
		t.Fatalf("Get = %+v, %v", got, err)
	}
	if err := r.Set(ctx, short, e, 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the short entry to expire", func() bool {
		_, err := r.Get(ctx, short)
		return errors.Is(err, cache.ErrMiss)
	})
}

func TestTwoReplicasShareRedis(t *testing.T) {
	url := cachetest.RedisURL(t)
	cfg := testConfig(t, url)
	a, b := newCache(t, cfg), newCache(t, cfg) // separate clients, as two proxies
	comp := &counter{text: "shared"}
	expect(t, a, "k", comp, cache.OutcomeMiss, "replica A")
	expect(t, b, "k", comp, cache.OutcomeHit, "replica B, A's entry")
	if comp.calls.Load() != 1 {
		t.Fatalf("compute ran %d times, want 1", comp.calls.Load())
	}
}

// twentyAtOnce starts 20 identical Do calls spread over caches, waits
// until ready says they have lined up, releases the computation and
// checks it ran once and every call got its text.
func twentyAtOnce(t *testing.T, caches []*cache.Cache, ready func() bool) {
	t.Helper()
	comp := &counter{text: "once", gate: make(chan struct{})}
	var wg sync.WaitGroup
	for i := range 20 {
		c := caches[i%len(caches)]
		wg.Go(func() {
			text, outcome, err := c.Do(context.Background(), "same", "m", comp.compute)
			if err != nil || text != "once" || (outcome != cache.OutcomeMiss && outcome != cache.OutcomeHit) {
				t.Errorf("Do = %q, %s, %v", text, outcome, err)
			}
		})
	}
	eventually(t, "the calls to line up", ready)
	close(comp.gate)
	wg.Wait()
	if n := comp.calls.Load(); n != 1 {
		t.Fatalf("compute ran %d times for 20 concurrent calls on %d instances, want 1", n, len(caches))
	}
}

func TestSingleFlightInProcess(t *testing.T) {
	c := newCache(t, testConfig(t, ""))
	twentyAtOnce(t, []*cache.Cache{c}, func() bool { return c.Stats().Shared == 19 })
	if st := c.Stats(); st.Misses != 20 {
		t.Fatalf("stats = %+v, want 20 misses", st)
	}
}

func TestSingleFlightAcrossReplicas(t *testing.T) {
	cfg := testConfig(t, cachetest.RedisURL(t))
	cfg.LockPoll = 5 * time.Millisecond
	a, b := newCache(t, cfg), newCache(t, cfg)
	// One replica computes; the other's flight waits on the lock.
	twentyAtOnce(t, []*cache.Cache{a, b}, func() bool {
		return a.Stats().LockWaits+b.Stats().LockWaits == 1 && a.Stats().Shared+b.Stats().Shared == 18
	})
	sa, sb := a.Stats(), b.Stats()
	if sa.Hits+sb.Hits != 10 || sa.Misses+sb.Misses != 10 {
		t.Fatalf("want 10 misses (computing replica) and 10 hits (waiting replica): A %+v B %+v", sa, sb)
	}
}

func TestLockHolderDiesWaitersCompute(t *testing.T) {
	addr := cachetest.Redis(t)
	cfg := testConfig(t, "redis://"+addr)
	cfg.LockTTL, cfg.LockPoll = 300*time.Millisecond, 10*time.Millisecond
	c := newCache(t, cfg)
	// A replica took the lock and died: nobody refreshes or releases it.
	if err := rawClient(t, addr).Set(context.Background(), cfg.Prefix+"lock:k", "dead", cfg.LockTTL).Err(); err != nil {
		t.Fatal(err)
	}
	comp := &counter{text: "after expiry"}
	expect(t, c, "k", comp, cache.OutcomeMiss, "lock expired")
	if comp.calls.Load() != 1 || c.Stats().LockWaits != 1 {
		t.Fatalf("computes = %d, lock waits = %d; want 1, 1", comp.calls.Load(), c.Stats().LockWaits)
	}
}

func TestLockWaiterLeavesOnContext(t *testing.T) {
	addr := cachetest.Redis(t)
	cfg := testConfig(t, "redis://"+addr)
	c := newCache(t, cfg)
	if err := rawClient(t, addr).Set(context.Background(), cfg.Prefix+"lock:k", "other", time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	comp := &counter{text: "never"}
	done := make(chan error, 1)
	go func() { _, _, err := c.Do(ctx, "k", "m", comp.compute); done <- err }()
	eventually(t, "the call to wait on the lock", func() bool { return c.Stats().LockWaits == 1 })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Do = %v, want context.Canceled", err)
	}
	if comp.calls.Load() != 0 {
		t.Fatal("computed although another replica holds the lock")
	}
}

func TestLockRefreshedWhileComputing(t *testing.T) {
	addr := cachetest.Redis(t)
	cfg := testConfig(t, "redis://"+addr)
	// Refreshes come every LockTTL/3; a second TTL leaves slack for a loaded machine.
	cfg.LockTTL, cfg.LockPoll = time.Second, 10*time.Millisecond
	c := newCache(t, cfg)
	rc := rawClient(t, addr)
	lockKey := cfg.Prefix + "lock:k"
	released := make(chan struct{})
	comp := func(context.Context) (string, error) {
		<-released
		return "long", nil
	}
	go func() { _, _, _ = c.Do(context.Background(), "k", "m", comp) }()
	eventually(t, "the lock to be taken", func() bool { return rc.Exists(context.Background(), lockKey).Val() == 1 })
	// Outlive several lock TTLs: the holder must keep refreshing it.
	first := rc.Get(context.Background(), lockKey).Val()
	deadline := time.Now().Add(5 * cfg.LockTTL / 2)
	for time.Now().Before(deadline) {
		if got := rc.Get(context.Background(), lockKey).Val(); got != first {
			t.Fatalf("lock lost while computing: value %q, want %q", got, first)
		}
		time.Sleep(20 * time.Millisecond)
	}
	close(released)
	eventually(t, "the lock to be released", func() bool { return rc.Exists(context.Background(), lockKey).Val() == 0 })
}

func TestCallerCancelDoesNotFailOthers(t *testing.T) {
	c := newCache(t, testConfig(t, ""))
	gate := make(chan struct{})
	var computeCtxErr atomic.Value
	compute := func(ctx context.Context) (string, error) {
		<-gate
		computeCtxErr.Store(fmt.Sprint(ctx.Err()))
		return "text", nil
	}
	first, cancel := context.WithCancel(context.Background())
	firstErr := make(chan error, 1)
	go func() { _, _, err := c.Do(first, "k", "m", compute); firstErr <- err }()
	eventually(t, "the first call to compute", func() bool { return c.Stats().Computes == 1 })
	second := make(chan string, 1)
	go func() { text, _, _ := c.Do(context.Background(), "k", "m", compute); second <- text }()
	eventually(t, "the second call to join", func() bool { return c.Stats().Shared == 1 })
	cancel()
	if err := <-firstErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("first caller: %v, want context.Canceled", err)
	}
	close(gate)
	if text := <-second; text != "text" {
		t.Fatalf("second caller got %q after the first left", text)
	}
	if got := computeCtxErr.Load(); got != "<nil>" {
		t.Fatalf("compute context was cancelled (%v) while a caller still waited", got)
	}
}

func TestAllCallersLeaveCancelsCompute(t *testing.T) {
	c := newCache(t, testConfig(t, ""))
	cancelled := make(chan struct{})
	compute := func(ctx context.Context) (string, error) {
		<-ctx.Done()
		close(cancelled)
		return "", ctx.Err()
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _, _, _ = c.Do(ctx, "k", "m", compute); close(done) }()
	eventually(t, "compute to start", func() bool { return c.Stats().Computes == 1 })
	cancel()
	<-done
	<-cancelled // blocks forever (test timeout) if the compute is never cancelled
	// The next caller starts afresh rather than joining the dead run.
	comp := &counter{text: "fresh"}
	if got := do(t, c, "k", comp); got != cache.OutcomeMiss || comp.calls.Load() != 1 {
		t.Fatalf("after all callers left: outcome %s, computes %d", got, comp.calls.Load())
	}
}

func TestComputePanicBecomesError(t *testing.T) {
	c := newCache(t, testConfig(t, ""))
	_, _, err := c.Do(context.Background(), "k", "m", func(context.Context) (string, error) { panic("boom") })
	if !errors.Is(err, cache.ErrComputePanic) {
		t.Fatalf("err = %v, want ErrComputePanic", err)
	}
}

func TestHitCountsSavedComputeTime(t *testing.T) {
	cfg := testConfig(t, "")
	m := cache.NewMemory(1 << 20)
	c := cache.NewWithStore(cfg, m, nil)
	e := cache.Entry{Text: "stored", Model: "m", Created: time.Now(), ComputeMs: 1234}
	if err := m.Set(context.Background(), cfg.Prefix+"k", e, time.Hour); err != nil {
		t.Fatal(err)
	}
	comp := &counter{text: "stored"}
	expect(t, c, "k", comp, cache.OutcomeHit, "prefilled")
	expect(t, c, "k", comp, cache.OutcomeHit, "prefilled again")
	if st := c.Stats(); st.SavedMs != 2468 || comp.calls.Load() != 0 {
		t.Fatalf("SavedMs = %d, computes = %d; want 2468, 0", st.SavedMs, comp.calls.Load())
	}
}
