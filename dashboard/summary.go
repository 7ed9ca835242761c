package dashboard

import (
	"context"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Check reports whether a dependency (Redis) is reachable; nil is up.
type Check func(context.Context) error

// armJSON is one experiment arm's row.
type armJSON struct {
	Arm         string            `json:"arm"`
	Requests    float64           `json:"requests"`
	Records     uint64            `json:"records"`
	Corrected   uint64            `json:"corrected"`
	CorrectRate *float64          `json:"correction_rate"`
	Fallbacks   map[string]uint64 `json:"fallbacks"`
	P50         *float64          `json:"latency_p50_s"`
	P95         *float64          `json:"latency_p95_s"`
}

type experimentJSON struct {
	Name string    `json:"name"`
	Arms []armJSON `json:"arms"`
}

type healthJSON struct {
	Requests       float64            `json:"requests"`
	CacheHitRatio  *float64           `json:"cache_hit_ratio"`
	CacheLookups   float64            `json:"cache_lookups"`
	Checks         map[string]string  `json:"checks"`
	QueueDepth     float64            `json:"engine_queue_depth"`
	Busy           float64            `json:"engine_busy_sequences"`
	TokensPerSec   *float64           `json:"tokens_per_second_p50"`
	Corrections    map[string]float64 `json:"corrections"`
	Upstream       map[string]float64 `json:"upstream_by_status"`
	UpstreamErrors *float64           `json:"upstream_error_ratio"`
	LatencyP50     *float64           `json:"latency_p50_s"`
	LatencyP95     *float64           `json:"latency_p95_s"`
	MetricsError   string             `json:"metrics_error,omitempty"`
}

// num maps NaN (no data) to null.
func num(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

func ratio(part, whole float64) *float64 {
	if whole <= 0 {
		return nil
	}
	return num(part / whole)
}

// experiments joins the ring's tallies (correction rate, fallbacks) with
// the metrics (requests assigned, latency by arm). Records outside any
// experiment are not an experiment and are left out.
func (d *Dashboard) experiments(v view) []experimentJSON {
	keys, tallies := d.ring.arms()
	seen := map[armKey]bool{}
	for _, k := range keys {
		seen[k] = true
	}
	for _, m := range v[mAssignments].GetMetric() {
		k := armKey{label(m, "experiment"), label(m, "arm")}
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].Experiment != keys[j].Experiment {
			return keys[i].Experiment < keys[j].Experiment
		}
		return keys[i].Arm < keys[j].Arm
	})
	var out []experimentJSON
	for _, k := range keys {
		if k.Experiment == "" {
			continue
		}
		if len(out) == 0 || out[len(out)-1].Name != k.Experiment {
			out = append(out, experimentJSON{Name: k.Experiment})
		}
		e := &out[len(out)-1]
		e.Arms = append(e.Arms, armRow(k, tallies[k], v))
	}
	return out
}

// armRow builds one arm's row. The request-duration histogram is labelled
// by arm only, so two experiments with an arm of the same name share it.
func armRow(k armKey, t tally, v view) armJSON {
	h := v.hist(mReqDuration, map[string]string{"arm": k.Arm})
	fb := t.Fallbacks
	if fb == nil {
		fb = map[string]uint64{}
	}
	return armJSON{
		Arm:      k.Arm,
		Requests: v.sum(mAssignments, map[string]string{"experiment": k.Experiment, "arm": k.Arm}),
		Records:  t.Records, Corrected: t.Corrected, Fallbacks: fb,
		CorrectRate: ratio(float64(t.Corrected), float64(t.Records)),
		P50:         num(h.quantile(0.5)), P95: num(h.quantile(0.95)),
	}
}

// health summarises the process since start, and runs the checks with a
// short timeout so a dead Redis cannot stall the page.
func (d *Dashboard) health(ctx context.Context, v view) healthJSON {
	hits := v.sum(mCache, map[string]string{"outcome": "hit"})
	lookups := v.sum(mCache, nil)
	up := v.by(mUpstream, "status", nil)
	upErr, upAll := 0.0, 0.0
	for status, n := range up {
		upAll += n
		if upstreamFailed(status) {
			upErr += n
		}
	}
	lat := v.hist(mReqDuration, nil)
	h := healthJSON{
		Requests: v.sum(mRequests, nil), CacheHitRatio: ratio(hits, lookups), CacheLookups: lookups,
		Checks: d.runChecks(ctx), QueueDepth: v.sum(mQueueDepth, nil), Busy: v.sum(mBusy, nil),
		TokensPerSec: num(v.hist(mTokensPerSec, nil).quantile(0.5)),
		Corrections:  v.by(mCorrections, "outcome", nil), Upstream: up, UpstreamErrors: ratio(upErr, upAll),
		LatencyP50: num(lat.quantile(0.5)), LatencyP95: num(lat.quantile(0.95)),
	}
	return h
}

// upstreamFailed reports whether an upstream status label is a failure:
// no response (0), or a 429 or 5xx.
func upstreamFailed(status string) bool {
	n, err := strconv.Atoi(status)
	return err != nil || n == 0 || n == 429 || n >= 500
}

func (d *Dashboard) runChecks(ctx context.Context) map[string]string {
	out := make(map[string]string, len(d.checks))
	for name, check := range d.checks {
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		err := check(cctx)
		cancel()
		if err != nil {
			out[name] = "down: " + strings.TrimSpace(err.Error())
			continue
		}
		out[name] = "up"
	}
	return out
}
