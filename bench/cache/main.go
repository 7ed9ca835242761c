// Command cache measures the latency a cache hit adds to a correction:
// Cache.Do on a hit, for the memory store, Redis on loopback and both
// layered, next to a no-cache baseline (calling compute directly) in the
// same run. It prints p50, p99 and max per mode as a Markdown table.
//
//	go run ./bench/cache -n 20000 [-redis 127.0.0.1:6379]
//
// Without -redis (or ALIGNGATE_REDIS_ADDR) it starts its own redis-server.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/aligngate/aligngate/cache"
	"github.com/aligngate/aligngate/cache/cachetest"
)

// key is shaped like correct/'s keys: a hex SHA-256 digest.
const key = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench/cache:", err)
		os.Exit(1)
	}
}

func run(w io.Writer) error {
	n := flag.Int("n", 20000, "measured operations per mode")
	warm := flag.Duration("warmup", 500*time.Millisecond, "unmeasured operations per mode first, for this long")
	size := flag.Int("size", 2048, "bytes of cached text")
	addr := flag.String("redis", os.Getenv(cachetest.EnvAddr), "Redis host:port (empty: start a private redis-server)")
	flag.Parse()

	if *addr == "" {
		dir, err := os.MkdirTemp("", "bench-cache-")
		if err != nil {
			return fmt.Errorf("temp dir: %w", err)
		}
		defer os.RemoveAll(dir)
		srv, err := cachetest.Start(dir)
		if err != nil {
			return err
		}
		defer srv.Stop()
		*addr = srv.Addr()
	}
	text := strings.Repeat("x", *size)
	compute := func(context.Context) (string, error) { return text, nil }

	fmt.Fprintf(w, "%d ops per mode after %s of warm-up, %d-byte text, GOMAXPROCS=%d, %s\n\n",
		*n, *warm, *size, runtime.GOMAXPROCS(0), runtime.Version())
	fmt.Fprintln(w, "| mode | p50 µs | p99 µs | max µs | mean µs | not hit (incl. warm-up) |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	baseline := func(ctx context.Context) error { _, err := compute(ctx); return err }
	fmt.Fprintln(w, row("no cache (baseline)", measure(*warm, *n, baseline), 0))
	for _, m := range []struct {
		name        string
		redisURL    string
		memoryBytes int64
	}{
		{"memory hit", "", 0},
		{"redis hit (loopback)", "redis://" + *addr, -1},
		{"layered hit (memory in front of redis)", "redis://" + *addr, 0},
	} {
		lat, notHit, err := measureHit(m.redisURL, m.memoryBytes, *warm, *n, compute)
		if err != nil {
			return fmt.Errorf("%s: %w", m.name, err)
		}
		fmt.Fprintln(w, row(m.name, lat, notHit))
	}
	return nil
}

// measureHit times Do on a cached key with the default config (100ms
// Redis timeout). Calls that were not hits (a Redis timeout on a starved
// machine) are counted in notHit and kept in the latencies.
func measureHit(redisURL string, memoryBytes int64, warm time.Duration, n int, compute func(context.Context) (string, error)) (lat []time.Duration, notHit int, err error) {
	cfg := cache.Config{RedisURL: redisURL, MemoryBytes: memoryBytes, Prefix: fmt.Sprintf("aligngate:bench:%d:", time.Now().UnixNano())}
	c, err := cache.New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, 0, err
	}
	defer c.Close()
	if _, _, err := c.Do(context.Background(), key, "m", compute); err != nil {
		return nil, 0, err
	}
	before := c.Stats().Hits
	lat = measure(warm, n, func(ctx context.Context) error {
		_, _, err := c.Do(ctx, key, "m", compute)
		return err
	})
	st := c.Stats()
	hitsAll := int(st.Hits - before)
	calls := int(st.Hits+st.Misses+st.Errors) - 1 // minus the filling call
	return lat, calls - hitsAll, nil
}

// measure runs op for warm (at least n/10 times), then n timed times,
// and returns the sorted latencies. A short warm-up leaves the first mode
// measured with start-up noise (GC, page faults, scheduler).
func measure(warm time.Duration, n int, op func(context.Context) error) []time.Duration {
	ctx := context.Background()
	for i, end := 0, time.Now().Add(warm); i < n/10 || time.Now().Before(end); i++ {
		_ = op(ctx)
	}
	lat := make([]time.Duration, n)
	for i := range lat {
		start := time.Now()
		_ = op(ctx)
		lat[i] = time.Since(start)
	}
	slices.Sort(lat)
	return lat
}

func row(name string, lat []time.Duration, notHit int) string {
	var sum time.Duration
	for _, d := range lat {
		sum += d
	}
	q := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	return fmt.Sprintf("| %s | %s | %s | %s | %s | %d |", name, us(q(0.50)), us(q(0.99)), us(lat[len(lat)-1]), us(sum/time.Duration(len(lat))), notHit)
}

func us(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d)/float64(time.Microsecond)) }
