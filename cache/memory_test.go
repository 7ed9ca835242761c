package cache

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestMemoryHitMiss(t *testing.T) {
	ctx := context.Background()
	m := NewMemory(1 << 20)
	if _, err := m.Get(ctx, "k"); !errors.Is(err, ErrMiss) {
		t.Fatalf("Get on empty store: err = %v, want ErrMiss", err)
	}
	want := Entry{Text: "fixed answer", Model: "aligner-7b", Created: time.Unix(100, 0).UTC(), ComputeMs: 42}
	if err := m.Set(ctx, "k", want, time.Hour); err != nil {
		t.Fatal(err)
	}
	got, err := m.Get(ctx, "k")
	if err != nil {
		t.Fatalf("Get after Set: %v", err)
	}
	if got.Text != want.Text || got.Model != want.Model || !got.Created.Equal(want.Created) || got.ComputeMs != 42 {
		t.Fatalf("Get = %+v, want %+v", got, want)
	}
	if got.Expires.IsZero() {
		t.Fatal("Expires not set for an entry with a TTL")
	}
}

func TestMemoryTTL(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1000, 0)
	m := NewMemory(1 << 20)
	m.now = func() time.Time { return now }
	if err := m.Set(ctx, "short", Entry{Text: "a"}, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := m.Set(ctx, "forever", Entry{Text: "b"}, 0); err != nil {
		t.Fatal(err)
	}
	now = now.Add(59 * time.Second)
	if _, err := m.Get(ctx, "short"); err != nil {
		t.Fatalf("before expiry: %v", err)
	}
	now = now.Add(time.Second)
	if _, err := m.Get(ctx, "short"); !errors.Is(err, ErrMiss) {
		t.Fatalf("at expiry: err = %v, want ErrMiss", err)
	}
	if m.Len() != 1 {
		t.Fatalf("expired entry not dropped on read: Len = %d, want 1", m.Len())
	}
	now = now.Add(1000 * time.Hour)
	if _, err := m.Get(ctx, "forever"); err != nil {
		t.Fatalf("entry without TTL: %v", err)
	}
}

func TestMemoryByteBound(t *testing.T) {
	ctx := context.Background()
	text := strings.Repeat("x", 1000)
	one := entrySize("key-000", Entry{Text: text, Model: "m"})
	m := NewMemory(10 * one)
	for i := range 100 {
		if err := m.Set(ctx, fmt.Sprintf("key-%03d", i), Entry{Text: text, Model: "m"}, 0); err != nil {
			t.Fatal(err)
		}
		if m.Bytes() > 10*one {
			t.Fatalf("after %d sets Bytes = %d > bound %d", i+1, m.Bytes(), 10*one)
		}
		if i == 50 {
			// Touch key-045 so that it becomes the most recently used.
			if _, err := m.Get(ctx, "key-045"); err != nil {
				t.Fatalf("key-045 evicted too early: %v", err)
			}
		}
	}
	if m.Len() != 10 {
		t.Fatalf("Len = %d, want 10", m.Len())
	}
	for _, k := range []string{"key-000", "key-045", "key-089"} {
		if _, err := m.Get(ctx, k); !errors.Is(err, ErrMiss) {
			t.Errorf("%s: err = %v, want evicted", k, err)
		}
	}
	for _, k := range []string{"key-090", "key-099"} {
		if _, err := m.Get(ctx, k); err != nil {
			t.Errorf("%s: %v, want kept", k, err)
		}
	}
}

func TestMemoryOverwriteKeepsAccounting(t *testing.T) {
	ctx := context.Background()
	m := NewMemory(1 << 20)
	for _, text := range []string{"short", strings.Repeat("y", 5000), "s"} {
		if err := m.Set(ctx, "k", Entry{Text: text}, 0); err != nil {
			t.Fatal(err)
		}
	}
	if want := entrySize("k", Entry{Text: "s"}); m.Bytes() != want || m.Len() != 1 {
		t.Fatalf("Bytes, Len = %d, %d; want %d, 1", m.Bytes(), m.Len(), want)
	}
}

func TestMemoryTooLargeNotStored(t *testing.T) {
	ctx := context.Background()
	m := NewMemory(100)
	if err := m.Set(ctx, "k", Entry{Text: strings.Repeat("z", 200)}, 0); err != nil {
		t.Fatalf("oversized Set must not fail: %v", err)
	}
	if _, err := m.Get(ctx, "k"); !errors.Is(err, ErrMiss) || m.Bytes() != 0 {
		t.Fatalf("oversized entry stored: err = %v, Bytes = %d", err, m.Bytes())
	}
}
