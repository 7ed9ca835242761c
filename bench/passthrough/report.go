package passthrough

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// Names of the targets the verdict compares.
const (
	FloorName     = "floor"
	AligngateName = "aligngate"
)

// Targets from the issue: aligngate's added p50 at most this multiple of
// the floor's, and its saturated throughput at least this share of the
// floor's.
const (
	MaxAddedP50Ratio   = 1.20
	MinThroughputRatio = 0.90
)

// Report writes res as Markdown: one table of measurements and, when both a
// "floor" and an "aligngate" target were measured, a verdict table against
// the targets. Added latency is relative to the first target. For
// streams the verdict also holds added time to first byte to the latency
// target, so that a proxy buffering a stream shows.
func Report(w io.Writer, res *Result) error {
	var b strings.Builder
	c := res.Config
	fmt.Fprintf(&b, "Sequential: %d requests per target and mode, interleaved. "+
		"Saturated: %d connections, %d rounds × %s per target, interleaved. "+
		"Request body %d bytes (json mode).\n\n",
		c.Requests, c.Concurrency, c.Rounds, c.Duration, len(RequestBody(ModeJSON, c.BodyBytes)))
	b.WriteString("| mode | target | p50 ms | p99 ms | added p50 ms | added p99 ms | TTFB p50 ms | added TTFB p50 ms | req/s | % of " +
		baseName(res) + " req/s | errors |\n")
	b.WriteString("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, m := range res.Modes {
		writeModeRows(&b, m)
	}
	writeVerdict(&b, res)
	_, err := io.WriteString(w, b.String())
	return err
}

func baseName(res *Result) string {
	if len(res.Config.Targets) == 0 {
		return "baseline"
	}
	return res.Config.Targets[0].Name
}

func writeModeRows(b *strings.Builder, m ModeResult) {
	if len(m.Targets) == 0 {
		return
	}
	base := m.Targets[0]
	for i, t := range m.Targets {
		added, addedP99, addedTTFB := "—", "—", "—"
		if i > 0 {
			added = ms(t.Latency.P50 - base.Latency.P50)
			addedP99 = ms(t.Latency.P99 - base.Latency.P99)
			addedTTFB = ms(t.TTFB.P50 - base.TTFB.P50)
		}
		ttfb := ms(t.TTFB.P50)
		if m.Mode != ModeStream {
			ttfb, addedTTFB = "—", "—"
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s | %s | %.0f | %s | %d |\n",
			m.Mode, t.Name, ms(t.Latency.P50), ms(t.Latency.P99), added, addedP99,
			ttfb, addedTTFB, t.Throughput, pct(t.Throughput, base.Throughput), t.Errors)
	}
}

func writeVerdict(b *strings.Builder, res *Result) {
	header := false
	for _, m := range res.Modes {
		floor, fok := find(m, FloorName)
		ag, aok := find(m, AligngateName)
		if !fok || !aok || len(m.Targets) == 0 {
			continue
		}
		if !header {
			fmt.Fprintf(b, "\n| mode | floor added p50 ms | aligngate added p50 ms | ratio (≤ %.2f) | TTFB ratio (≤ %.2f) | floor req/s | aligngate req/s | ratio (≥ %.2f) |\n",
				MaxAddedP50Ratio, MaxAddedP50Ratio, MinThroughputRatio)
			b.WriteString("|---|--:|--:|--:|--:|--:|--:|--:|\n")
			header = true
		}
		base := m.Targets[0]
		fAdded, aAdded := floor.Latency.P50-base.Latency.P50, ag.Latency.P50-base.Latency.P50
		latRatio := ratio(float64(aAdded), float64(fAdded))
		ttfb := "—"
		if m.Mode == ModeStream {
			r := ratio(float64(ag.TTFB.P50-base.TTFB.P50), float64(floor.TTFB.P50-base.TTFB.P50))
			ttfb = verdict(r, r <= MaxAddedP50Ratio)
		}
		rpsRatio := ratio(ag.Throughput, floor.Throughput)
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %.0f | %.0f | %s |\n", m.Mode, ms(fAdded), ms(aAdded),
			verdict(latRatio, latRatio <= MaxAddedP50Ratio), ttfb, floor.Throughput, ag.Throughput,
			verdict(rpsRatio, rpsRatio >= MinThroughputRatio))
	}
}

func find(m ModeResult, name string) (TargetResult, bool) {
	for _, t := range m.Targets {
		if t.Name == name {
			return t, true
		}
	}
	return TargetResult{}, false
}

// ratio returns a/b, or NaN when b is not positive (a floor that adds
// nothing measurable makes the ratio meaningless).
func ratio(a, b float64) float64 {
	if b <= 0 {
		return math.NaN()
	}
	return a / b
}

func verdict(r float64, ok bool) string {
	if math.IsNaN(r) {
		return "n/a"
	}
	if ok {
		return fmt.Sprintf("%.2f ✅", r)
	}
	return fmt.Sprintf("%.2f ❌", r)
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.3f", float64(d)/float64(time.Millisecond))
}

func pct(a, b float64) string {
	if b <= 0 {
		return "—"
	}
	return fmt.Sprintf("%.0f%%", 100*a/b)
}
