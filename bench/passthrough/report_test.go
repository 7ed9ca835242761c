package passthrough

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("output differs from %s:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func us(n int) time.Duration { return time.Duration(n) * time.Microsecond }

func target(name string, p50, p99, ttfb int, rps float64) TargetResult {
	return TargetResult{
		Name:       name,
		Latency:    Percentiles{N: 2000, P50: us(p50), P99: us(p99)},
		TTFB:       Percentiles{N: 2000, P50: us(ttfb), P99: us(ttfb * 2)},
		Throughput: rps,
	}
}

func TestReportGolden(t *testing.T) {
	cfg := Config{
		Targets:  []Target{{Name: "direct"}, {Name: FloorName}, {Name: AligngateName}},
		Requests: 2000, Concurrency: 64, Duration: 2 * time.Second, Rounds: 3,
	}
	cfg.setDefaults()
	res := &Result{Config: cfg, Modes: []ModeResult{
		{Mode: ModeJSON, Targets: []TargetResult{
			target("direct", 300, 1200, 290, 9000),
			target(FloorName, 540, 2000, 530, 4500),
			target(AligngateName, 580, 2500, 570, 4200), // added 0.28 vs 0.24: 1.17, 93%
		}},
		{Mode: ModeStream, Targets: []TargetResult{
			target("direct", 500, 3000, 380, 3000),
			target(FloorName, 800, 5000, 600, 2000),
			target(AligngateName, 900, 6000, 700, 1500), // added 0.40 vs 0.30: 1.33, 75%
		}},
	}}
	res.Modes[1].Targets[2].Errors = 3
	var b bytes.Buffer
	if err := Report(&b, res); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.md", b.Bytes())
}

func TestReportWithoutAligngateHasNoVerdict(t *testing.T) {
	cfg := Config{Targets: []Target{{Name: "direct"}, {Name: FloorName}}}
	cfg.setDefaults()
	res := &Result{Config: cfg, Modes: []ModeResult{{Mode: ModeJSON, Targets: []TargetResult{
		target("direct", 300, 1200, 290, 9000), target(FloorName, 540, 2000, 530, 4500),
	}}}}
	var b bytes.Buffer
	if err := Report(&b, res); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b.Bytes(), []byte("ratio")) {
		t.Fatalf("verdict printed without an aligngate target:\n%s", b.String())
	}
}

func TestVerdictRatios(t *testing.T) {
	for _, tc := range []struct {
		a, b float64
		ok   bool
		want string
	}{
		{1.1, 1, true, "1.10 ✅"},
		{1.3, 1, false, "1.30 ❌"},
		{1, 0, true, "n/a"},
	} {
		if got := verdict(ratio(tc.a, tc.b), tc.ok); got != tc.want {
			t.Errorf("verdict(%v/%v) = %q, want %q", tc.a, tc.b, got, tc.want)
		}
	}
}
