package cache

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Sentinel errors of the stores.
var (
	// ErrMiss means the key is not cached (or expired, or was corrupt).
	ErrMiss = errors.New("cache: miss")
	// ErrCorrupt is wrapped together with ErrMiss when a stored value
	// could not be decoded; the caller computes and overwrites it.
	ErrCorrupt = errors.New("cache: corrupt value")
)

// Entry is one cached correction. It is JSON-encoded in Redis.
type Entry struct {
	// Text is the corrected answer.
	Text string `json:"text"`
	// Model is the correction model that produced Text.
	Model string `json:"model"`
	// Created is when Text was computed.
	Created time.Time `json:"created"`
	// ComputeMs is how long computing Text took: the latency a hit saves.
	ComputeMs int64 `json:"compute_ms"`
	// Expires is when the entry expires; set by the store on Set (zero
	// for no expiry). A layered store uses it to backfill its front layer
	// with the remaining lifetime.
	Expires time.Time `json:"expires,omitzero"`
}

// Store is a key-value store of entries. Keys arrive already prefixed.
// Get returns an error wrapping ErrMiss when the key is absent; any
// other error means the store failed.
type Store interface {
	Get(ctx context.Context, key string) (Entry, error)
	Set(ctx context.Context, key string, e Entry, ttl time.Duration) error
}

// Locker is the optional ability of a shared store to hold a short lock
// per key, so that replicas compute a correction only once. Lock reports
// whether it took the lock; Refresh reports whether the lock is still
// held by token and extends it; Unlock releases it if held by token.
type Locker interface {
	Lock(ctx context.Context, key, token string, ttl time.Duration) (bool, error)
	Refresh(ctx context.Context, key, token string, ttl time.Duration) (bool, error)
	Unlock(ctx context.Context, key, token string) error
}

// withExpiry returns e with Expires set from ttl (zero ttl: no expiry).
func withExpiry(e Entry, now time.Time, ttl time.Duration) Entry {
	e.Expires = time.Time{}
	if ttl > 0 {
		e.Expires = now.Add(ttl)
	}
	return e
}

func encodeEntry(e Entry) ([]byte, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("cache: encode entry: %w", err)
	}
	return b, nil
}

// decodeEntry decodes a stored value. Anything that is not an entry we
// wrote (bad JSON, wrong shape, no creation time) is corrupt.
func decodeEntry(b []byte) (Entry, error) {
	var e Entry
	if err := json.Unmarshal(b, &e); err != nil {
		return Entry{}, fmt.Errorf("%w: %w: %w", ErrMiss, ErrCorrupt, err)
	}
	if e.Created.IsZero() {
		return Entry{}, fmt.Errorf("%w: %w: no creation time", ErrMiss, ErrCorrupt)
	}
	return e, nil
}
