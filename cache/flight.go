package cache

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
)

// ErrComputePanic is returned to every caller sharing a computation that
// panicked; the panic does not crash the process.
var ErrComputePanic = errors.New("cache: compute panicked")

// fillResult is what one shared computation yields.
type fillResult struct {
	text        string
	err         error
	storeFailed bool // a store operation failed on the way
	fromPeer    bool // another replica computed it; we only read it
}

// flights runs at most one fill per key at a time in this process and
// shares its result with every caller that asks meanwhile. Unlike
// x/sync/singleflight, the fill runs on a context detached from the
// first caller and is cancelled only once every caller has left, so one
// client going away never fails the others.
type flights struct {
	mu     sync.Mutex
	calls  map[string]*call
	joined atomic.Uint64
}

type call struct {
	done    chan struct{}
	res     fillResult
	waiters int
	cancel  context.CancelFunc
}

// do returns fill's result for key, running fill unless a run for key is
// in flight. It returns ctx's error if ctx ends first.
func (f *flights) do(ctx context.Context, key string, fill func(context.Context) fillResult) (fillResult, error) {
	f.mu.Lock()
	c, ok := f.calls[key]
	if ok {
		c.waiters++
		f.joined.Add(1)
	} else {
		if f.calls == nil {
			f.calls = make(map[string]*call)
		}
		runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		c = &call{done: make(chan struct{}), waiters: 1, cancel: cancel}
		f.calls[key] = c
		go f.run(runCtx, key, c, fill)
	}
	f.mu.Unlock()

	select {
	case <-c.done:
		return c.res, nil
	case <-ctx.Done():
		f.leave(key, c)
		return fillResult{}, ctx.Err()
	}
}

func (f *flights) run(ctx context.Context, key string, c *call, fill func(context.Context) fillResult) {
	defer func() {
		if p := recover(); p != nil {
			c.res = fillResult{err: fmt.Errorf("%w: %v", ErrComputePanic, p)}
		}
		f.mu.Lock()
		if f.calls[key] == c {
			delete(f.calls, key)
		}
		f.mu.Unlock()
		c.cancel()
		close(c.done)
	}()
	c.res = fill(ctx)
}

// leave drops one waiter; the last one out cancels the run and forgets
// it, so the next caller starts afresh instead of joining a dying run.
func (f *flights) leave(key string, c *call) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c.waiters--
	if c.waiters > 0 {
		return
	}
	c.cancel()
	if f.calls[key] == c {
		delete(f.calls, key)
	}
}
