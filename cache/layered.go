package cache

import (
	"context"
	"errors"
	"time"
)

// Layered puts a fast front store (memory) before a shared back store
// (Redis). Reads try the front first and backfill it from the back;
// writes go to both.
type Layered struct {
	front, back Store
}

// NewLayered returns a store reading front then back.
func NewLayered(front, back Store) *Layered {
	return &Layered{front: front, back: back}
}

// Get returns the front entry, else the back entry (copied to the front
// for its remaining lifetime). A back failure is returned as is.
func (l *Layered) Get(ctx context.Context, key string) (Entry, error) {
	if e, err := l.front.Get(ctx, key); err == nil {
		return e, nil
	}
	e, err := l.back.Get(ctx, key)
	if err != nil {
		return Entry{}, err
	}
	var ttl time.Duration
	if !e.Expires.IsZero() {
		if ttl = time.Until(e.Expires); ttl <= 0 {
			return e, nil // about to expire: serve, do not keep
		}
	}
	// The front is best effort; the back answered.
	_ = l.front.Set(ctx, key, e, ttl)
	return e, nil
}

// Set writes to both layers and returns their errors joined.
func (l *Layered) Set(ctx context.Context, key string, e Entry, ttl time.Duration) error {
	return errors.Join(l.front.Set(ctx, key, e, ttl), l.back.Set(ctx, key, e, ttl))
}

// lockerOf returns the Locker of s, looking behind a Layered store.
func lockerOf(s Store) (Locker, bool) {
	if l, ok := s.(*Layered); ok {
		return lockerOf(l.back)
	}
	lk, ok := s.(Locker)
	return lk, ok
}

var _ Store = (*Layered)(nil)
