package cache

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestRateLogAtMostOnePerInterval(t *testing.T) {
	var buf bytes.Buffer
	now := time.Unix(0, 0)
	r := newRateLog(slog.New(slog.NewTextHandler(&buf, nil)), 10*time.Second)
	r.now = func() time.Time { return now }
	var logged []bool
	for _, step := range []time.Duration{0, time.Second, 8 * time.Second, time.Second, time.Second} {
		now = now.Add(step)
		logged = append(logged, r.Warn("redis down"))
	}
	want := []bool{true, false, false, true, false}
	for i := range want {
		if logged[i] != want[i] {
			t.Fatalf("logged = %v, want %v", logged, want)
		}
	}
	if n := strings.Count(buf.String(), "redis down"); n != 2 {
		t.Fatalf("%d lines logged, want 2:\n%s", n, buf.String())
	}
	if !strings.Contains(buf.String(), "suppressed=2") {
		t.Fatalf("second line must count the 2 swallowed warnings:\n%s", buf.String())
	}
}
