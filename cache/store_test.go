package cache

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestEntryEncodingGolden pins the bytes stored in Redis. Replicas of
// different versions share them: if this test fails, the format changed,
// and DefaultPrefix must move to the next version (aligngate:v2:).
func TestEntryEncodingGolden(t *testing.T) {
	e := Entry{
		Text: "Paris is the capital of France.", Model: "aligner-2b-q4",
		Created: time.Date(2026, 11, 27, 20, 0, 0, 0, time.UTC), ComputeMs: 1830,
	}
	e = withExpiry(e, e.Created, 24*time.Hour)
	got, err := encodeEntry(e)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "entry_v1.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("entry encoding changed (bump DefaultPrefix):\ngot  %s\nwant %s", got, want)
	}
	back, err := decodeEntry(want)
	if err != nil || back.Text != e.Text || back.Model != e.Model || back.ComputeMs != e.ComputeMs ||
		!back.Created.Equal(e.Created) || !back.Expires.Equal(e.Expires) {
		t.Fatalf("decode golden = %+v, %v; want %+v", back, err, e)
	}
}

func FuzzDecodeEntry(f *testing.F) {
	for _, seed := range []string{`{"text":"t","model":"m","created":"2026-11-27T20:00:00Z","compute_ms":1}`,
		`{}`, `null`, `[`, `{"created":"not a time"}`, "\x00"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := decodeEntry(b)
		if err != nil {
			if !errors.Is(err, ErrMiss) || !errors.Is(err, ErrCorrupt) {
				t.Fatalf("decode error %v must wrap ErrMiss and ErrCorrupt", err)
			}
			return
		}
		if e.Created.IsZero() {
			t.Fatal("accepted an entry without creation time")
		}
		again, err := encodeEntry(e)
		if err != nil {
			t.Fatal(err)
		}
		if e2, err := decodeEntry(again); err != nil || !e2.Created.Equal(e.Created) || e2.Text != e.Text {
			t.Fatalf("round trip: %+v, %v; want %+v", e2, err, e)
		}
	})
}
