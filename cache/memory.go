package cache

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// entryOverhead approximates the bytes an entry costs beyond its strings
// (list element, map slot, times, pointers).
const entryOverhead = 160

// Memory is an in-process LRU store bounded in bytes. It is safe for
// concurrent use and never fails.
type Memory struct {
	maxBytes int64
	now      func() time.Time

	mu    sync.Mutex
	lru   *simplelru.LRU[string, memEntry]
	bytes int64
}

type memEntry struct {
	e    Entry
	size int64
}

// NewMemory returns a store holding at most maxBytes bytes of entries,
// evicting the least recently used. maxBytes <= 0 stores nothing.
func NewMemory(maxBytes int64) *Memory {
	m := &Memory{maxBytes: maxBytes, now: time.Now}
	// The count bound is irrelevant: we evict by bytes ourselves.
	l, err := simplelru.NewLRU[string, memEntry](math.MaxInt, func(_ string, v memEntry) {
		m.bytes -= v.size
	})
	if err != nil {
		panic(fmt.Sprintf("cache: simplelru: %v", err)) // only for size <= 0
	}
	m.lru = l
	return m
}

func entrySize(key string, e Entry) int64 {
	return int64(len(key)+len(e.Text)+len(e.Model)) + entryOverhead
}

// Get returns the entry for key, or ErrMiss if absent or expired.
func (m *Memory) Get(_ context.Context, key string) (Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.lru.Get(key)
	if !ok {
		return Entry{}, ErrMiss
	}
	if !v.e.Expires.IsZero() && !m.now().Before(v.e.Expires) {
		m.lru.Remove(key)
		return Entry{}, ErrMiss
	}
	return v.e, nil
}

// Set stores e under key for ttl (zero: until evicted). An entry larger
// than the whole bound is not stored.
func (m *Memory) Set(_ context.Context, key string, e Entry, ttl time.Duration) error {
	e = withExpiry(e, m.now(), ttl)
	size := entrySize(key, e)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lru.Remove(key) // keeps byte accounting right on overwrite
	if size > m.maxBytes {
		return nil
	}
	m.lru.Add(key, memEntry{e: e, size: size})
	m.bytes += size
	for m.bytes > m.maxBytes {
		m.lru.RemoveOldest()
	}
	return nil
}

// Len returns the number of entries held (expired ones included until
// they are read or evicted).
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lru.Len()
}

// Bytes returns the accounted size of the entries held.
func (m *Memory) Bytes() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.bytes
}
