package dashboard

import (
	"fmt"
	"math"
	"sort"

	dto "github.com/prometheus/client_model/go"
)

// Metrics is where the dashboard reads aligngate's metrics: the registry
// that /metrics serves (telemetry's Gatherer satisfies it), so the page
// and a scrape agree.
type Metrics interface {
	Gather() ([]*dto.MetricFamily, error)
}

// Metric family names as the Prometheus exporter writes them.
const (
	mRequests     = "aligngate_requests_total"
	mReqDuration  = "aligngate_request_duration_seconds"
	mUpstream     = "aligngate_upstream_requests_total"
	mCorrections  = "aligngate_corrections_total"
	mTokensPerSec = "aligngate_correction_tokens_per_second"
	mCache        = "aligngate_cache_lookups_total"
	mAssignments  = "aligngate_experiment_assignments_total"
	mQueueDepth   = "aligngate_engine_queue_depth"
	mBusy         = "aligngate_engine_busy_sequences"
)

// view is one gathering, indexed by family name.
type view map[string]*dto.MetricFamily

func gather(m Metrics) (view, error) {
	fams, err := m.Gather()
	if err != nil {
		return nil, fmt.Errorf("dashboard: gather metrics: %w", err)
	}
	v := make(view, len(fams))
	for _, f := range fams {
		v[f.GetName()] = f
	}
	return v, nil
}

// matches reports whether m carries every label in want.
func matches(m *dto.Metric, want map[string]string) bool {
	n := 0
	for _, l := range m.GetLabel() {
		if w, ok := want[l.GetName()]; ok {
			if w != l.GetValue() {
				return false
			}
			n++
		}
	}
	return n == len(want)
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// value is a counter's or a gauge's value.
func value(m *dto.Metric) float64 {
	switch {
	case m.GetCounter() != nil:
		return m.GetCounter().GetValue()
	case m.GetGauge() != nil:
		return m.GetGauge().GetValue()
	}
	return 0
}

// sum adds the series of family name that match want.
func (v view) sum(name string, want map[string]string) float64 {
	total := 0.0
	for _, m := range v[name].GetMetric() {
		if matches(m, want) {
			total += value(m)
		}
	}
	return total
}

// by adds the series of family name per value of label lbl.
func (v view) by(name, lbl string, want map[string]string) map[string]float64 {
	out := map[string]float64{}
	for _, m := range v[name].GetMetric() {
		if matches(m, want) {
			out[label(m, lbl)] += value(m)
		}
	}
	return out
}

// hist is a histogram merged over series: cumulative counts per upper
// bound, +Inf last.
type hist struct {
	Bounds []float64
	Cum    []float64
	Count  float64
	Sum    float64
}

// hist merges the histogram series of family name that match want. Our
// histograms share their bounds per family, so buckets add up.
func (v view) hist(name string, want map[string]string) hist {
	var h hist
	for _, m := range v[name].GetMetric() {
		ph := m.GetHistogram()
		if ph == nil || !matches(m, want) {
			continue
		}
		if h.Bounds == nil {
			for _, b := range ph.GetBucket() {
				h.Bounds = append(h.Bounds, b.GetUpperBound())
			}
			h.Cum = make([]float64, len(h.Bounds))
		}
		for i, b := range ph.GetBucket() {
			if i < len(h.Cum) {
				h.Cum[i] += float64(b.GetCumulativeCount())
			}
		}
		h.Count += float64(ph.GetSampleCount())
		h.Sum += ph.GetSampleSum()
	}
	return h
}

// minus returns h − old, the observations between two gatherings.
func (h hist) minus(old hist) hist {
	if len(old.Cum) != len(h.Cum) {
		return h
	}
	d := hist{Bounds: h.Bounds, Cum: make([]float64, len(h.Cum)), Count: h.Count - old.Count, Sum: h.Sum - old.Sum}
	for i := range h.Cum {
		d.Cum[i] = h.Cum[i] - old.Cum[i]
	}
	return d
}

// quantile estimates the q-quantile as Prometheus' histogram_quantile
// does: linear within the bucket, the highest finite bound for the +Inf
// bucket. NaN when there are no observations.
func (h hist) quantile(q float64) float64 {
	if h.Count <= 0 || len(h.Bounds) == 0 {
		return math.NaN()
	}
	rank := q * h.Count
	i := sort.Search(len(h.Cum), func(i int) bool { return h.Cum[i] >= rank })
	if i == len(h.Cum) {
		return h.Bounds[len(h.Bounds)-1] // every finite bucket is below rank
	}
	lower, below := 0.0, 0.0
	if i > 0 {
		lower, below = h.Bounds[i-1], h.Cum[i-1]
	}
	inBucket := h.Cum[i] - below
	if inBucket <= 0 {
		return h.Bounds[i]
	}
	return lower + (h.Bounds[i]-lower)*(rank-below)/inBucket
}
