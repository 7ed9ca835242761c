// Package cache keeps finished corrections so that identical requests are
// answered without running the correction model again.
//
// A Cache sits on a Store: an in-process LRU bounded in bytes (Memory), a
// Redis server, Sentinel group or Cluster shared by replicas (Redis), or
// both with memory in front (Layered). Cache.Do returns the cached text or
// runs the computation once for all concurrent callers in the process
// and, with Redis, across replicas through a short lock. The cache is
// never on the critical path: when a store fails, times out or returns
// garbage, Do computes the value anyway and reports OutcomeError. A miss
// costs at most two Redis timeouts while Redis hangs (the read, then the
// write), and after three consecutive failures Redis is skipped for a
// second at a time, so an outage costs almost nothing per request; the
// first call after that second probes it again.
//
// Keys are built by the caller (a hex digest of everything that
// determines the output); the cache puts a versioned prefix before them.
//
// It owns the correction store and knows nothing of HTTP: it must not
// import proxy, correct, policies, llamacpp, config or gin (correct
// declares the interface it uses, correct.Cache).
package cache

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Outcomes returned by Do and Bypass, meant for the X-Aligngate-Cache
// response header and metrics labels.
const (
	// OutcomeHit: the text came from the cache (or from another replica
	// that computed it while we waited on its lock).
	OutcomeHit = "hit"
	// OutcomeMiss: the text was computed and stored.
	OutcomeMiss = "miss"
	// OutcomeBypass: the cache was not consulted (sampled request, no key).
	OutcomeBypass = "bypass"
	// OutcomeError: a store operation failed; the text was computed anyway.
	OutcomeError = "error"
)

// Stats are cumulative counters since New, for telemetry.
type Stats struct {
	// Hits, Misses, Bypasses and Errors count Do and Bypass calls by outcome.
	Hits, Misses, Bypasses, Errors uint64
	// StoreErrors counts failed store operations (one call may see several).
	StoreErrors uint64
	// Corrupt counts stored values that could not be decoded.
	Corrupt uint64
	// Computes counts calls of a compute function.
	Computes uint64
	// Shared counts calls that joined a computation already in flight here.
	Shared uint64
	// LockWaits counts fills that waited for another replica's lock.
	LockWaits uint64
	// SavedMs sums the compute time (Entry.ComputeMs) of the entries hits
	// served: the model time the cache saved.
	SavedMs uint64
}

type counters struct {
	hits, misses, bypasses, errors         atomic.Uint64
	storeErrors, corrupt, computes, waited atomic.Uint64
	savedMs                                atomic.Uint64
}

// Cache answers corrections from a Store, computing each missing one once.
// Its methods are safe for concurrent use; a nil *Cache bypasses.
type Cache struct {
	cfg     Config
	store   Store
	locker  Locker // nil: no cross-replica lock
	closer  io.Closer
	redis   *Redis // nil: no Redis layer
	logger  *slog.Logger
	flights flights
	n       counters
}

// New builds the stores cfg asks for: memory only when RedisURL is empty,
// Redis only when MemoryBytes < 0, memory in front of Redis otherwise.
// It does not contact Redis, so it succeeds while Redis is down.
func New(cfg Config, logger *slog.Logger) (*Cache, error) {
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.RedisURL == "" {
		return NewWithStore(cfg, NewMemory(cfg.MemoryBytes), logger), nil
	}
	r, err := NewRedis(cfg, logger)
	if err != nil {
		return nil, err
	}
	var s Store = r
	if cfg.MemoryBytes > 0 {
		s = NewLayered(NewMemory(cfg.MemoryBytes), r)
	}
	c := NewWithStore(cfg, s, logger)
	c.closer = r
	c.redis = r
	return c, nil
}

// Degraded reports whether the cache's Redis is failing. The cache fails
// open meanwhile: corrections go on uncached.
func (c *Cache) Degraded() bool { return c.redis != nil && c.redis.Failing() }

// NewWithStore returns a Cache on any store. The cross-replica lock is
// used when cfg enables it and the store (or the back of a Layered one)
// is a Locker. Close does not close store.
func NewWithStore(cfg Config, store Store, logger *slog.Logger) *Cache {
	cfg.SetDefaults()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	c := &Cache{cfg: cfg, store: store, logger: logger}
	if lk, ok := lockerOf(store); ok && cfg.LockEnabled() {
		c.locker = lk
	}
	return c
}

// Close releases the Redis connections New opened.
func (c *Cache) Close() error {
	if c == nil || c.closer == nil {
		return nil
	}
	return c.closer.Close()
}

// Stats returns the counters.
func (c *Cache) Stats() Stats {
	if c == nil {
		return Stats{}
	}
	return Stats{
		Hits: c.n.hits.Load(), Misses: c.n.misses.Load(), Bypasses: c.n.bypasses.Load(), Errors: c.n.errors.Load(),
		StoreErrors: c.n.storeErrors.Load(), Corrupt: c.n.corrupt.Load(), Computes: c.n.computes.Load(),
		Shared: c.flights.joined.Load(), LockWaits: c.n.waited.Load(), SavedMs: c.n.savedMs.Load(),
	}
}

// Bypass runs compute without the cache and returns OutcomeBypass.
func (c *Cache) Bypass(ctx context.Context, compute func(context.Context) (string, error)) (string, string, error) {
	if c != nil {
		c.n.bypasses.Add(1)
		c.n.computes.Add(1)
	}
	text, err := compute(ctx)
	return text, OutcomeBypass, err
}

// Do returns the cached text for key or runs compute once (single-flight
// in the process, and a lock across replicas) and stores its result.
// outcome is one of the Outcome constants. Store errors never surface as
// err; compute's error does, as does ctx's when the caller leaves first.
// An empty key bypasses the cache.
func (c *Cache) Do(ctx context.Context, key, model string, compute func(context.Context) (string, error)) (text string, outcome string, err error) {
	if c == nil || c.store == nil || key == "" {
		return c.Bypass(ctx, compute)
	}
	e, err := c.store.Get(ctx, c.cfg.Prefix+key)
	if err == nil {
		c.n.hits.Add(1)
		c.saved(e)
		return e.Text, OutcomeHit, nil
	}
	if ctx.Err() != nil {
		return "", OutcomeMiss, ctx.Err()
	}
	getFailed := c.note(err)
	j := job{key: key, model: model, compute: compute}
	res, err := c.flights.do(ctx, key, func(ctx context.Context) fillResult {
		if getFailed || c.locker == nil {
			// Redis just failed us: do not spend another timeout on the lock.
			return c.computeAndStore(ctx, j)
		}
		return c.fillLocked(ctx, j)
	})
	outcome = c.outcome(getFailed || res.storeFailed, res.fromPeer)
	if err != nil {
		return "", outcome, err
	}
	return res.text, outcome, res.err
}

func (c *Cache) saved(e Entry) {
	if e.ComputeMs > 0 {
		c.n.savedMs.Add(uint64(e.ComputeMs))
	}
}

func (c *Cache) outcome(storeFailed, fromPeer bool) string {
	switch {
	case storeFailed:
		c.n.errors.Add(1)
		return OutcomeError
	case fromPeer:
		c.n.hits.Add(1)
		return OutcomeHit
	default:
		c.n.misses.Add(1)
		return OutcomeMiss
	}
}

// note counts a store error and reports whether the store failed (as
// opposed to a plain or corrupt miss).
func (c *Cache) note(err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, ErrCorrupt):
		c.n.corrupt.Add(1)
		return false
	case errors.Is(err, ErrMiss):
		return false
	default:
		c.n.storeErrors.Add(1)
		return true
	}
}

// job is one value to produce: what Do was called with.
type job struct {
	key, model string
	compute    func(context.Context) (string, error)
}

// computeAndStore runs compute and stores its result. The store gets a
// context that outlives the callers, bounded by the store's own timeout,
// so finished work is kept.
func (c *Cache) computeAndStore(ctx context.Context, j job) fillResult {
	c.n.computes.Add(1)
	start := time.Now()
	text, err := j.compute(ctx)
	if err != nil {
		return fillResult{err: err}
	}
	e := Entry{Text: text, Model: j.model, Created: start.UTC(), ComputeMs: time.Since(start).Milliseconds()}
	err = c.store.Set(context.WithoutCancel(ctx), c.cfg.Prefix+j.key, e, c.cfg.TTL)
	return fillResult{text: text, storeFailed: c.note(err)}
}

// fillLocked takes the replica lock and computes, or polls for the
// holder's result until it appears, the lock is free again (the holder
// failed or died and the lock expired) or ctx ends. When the lock store
// fails it computes without the lock.
func (c *Cache) fillLocked(ctx context.Context, j job) fillResult {
	lockKey := c.cfg.Prefix + "lock:" + j.key
	token := rand.Text()
	waited := false
	for {
		got, err := c.locker.Lock(ctx, lockKey, token, c.cfg.LockTTL)
		if err != nil {
			if ctx.Err() != nil {
				return fillResult{err: ctx.Err()}
			}
			c.note(err)
			r := c.computeAndStore(ctx, j)
			r.storeFailed = true
			return r
		}
		if got {
			return c.computeHoldingLock(ctx, j, lockKey, token)
		}
		if !waited {
			waited = true
			c.n.waited.Add(1)
		}
		if r, done := c.poll(ctx, j.key); done {
			if r.storeFailed && r.err == nil {
				r = c.computeAndStore(ctx, j)
				r.storeFailed = true
			}
			return r
		}
	}
}

// poll waits one poll interval and looks for the value. done is false
// when the value is still missing and waiting should go on.
func (c *Cache) poll(ctx context.Context, key string) (r fillResult, done bool) {
	t := time.NewTimer(c.cfg.LockPoll)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return fillResult{err: ctx.Err()}, true
	case <-t.C:
	}
	e, err := c.store.Get(ctx, c.cfg.Prefix+key)
	switch {
	case err == nil:
		c.saved(e)
		return fillResult{text: e.Text, fromPeer: true}, true
	case ctx.Err() != nil:
		return fillResult{err: ctx.Err()}, true
	case c.note(err):
		return fillResult{storeFailed: true}, true
	}
	return fillResult{}, false
}

// computeHoldingLock computes while keeping the lock alive, then stores
// the value before releasing the lock so that waiters find it.
func (c *Cache) computeHoldingLock(ctx context.Context, j job, lockKey, token string) fillResult {
	defer func() {
		c.note(c.locker.Unlock(context.WithoutCancel(ctx), lockKey, token))
	}()
	// The holder before us may have stored it between our miss and our lock.
	if e, err := c.store.Get(ctx, c.cfg.Prefix+j.key); err == nil {
		c.saved(e)
		return fillResult{text: e.Text, fromPeer: true}
	}
	stop := c.keepLock(ctx, lockKey, token)
	defer stop()
	return c.computeAndStore(ctx, j)
}

// keepLock refreshes the lock every third of its TTL until stop is
// called, so a long computation keeps it while a dead holder loses it.
func (c *Cache) keepLock(ctx context.Context, lockKey, token string) (stop func()) {
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(c.cfg.LockTTL / 3)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				if _, err := c.locker.Refresh(ctx, lockKey, token, c.cfg.LockTTL); err != nil {
					c.note(err)
				}
			}
		}
	}()
	return func() { close(quit); wg.Wait() }
}

// String describes the cache for logs without secrets.
func (c *Cache) String() string {
	if c == nil {
		return "cache(off)"
	}
	r := c.cfg.Redacted()
	return fmt.Sprintf("cache(redis=%q memory_bytes=%d ttl=%s lock=%t)", r.RedisURL, r.MemoryBytes, r.TTL, c.locker != nil)
}
