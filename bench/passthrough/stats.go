package passthrough

import (
	"slices"
	"time"
)

// Percentiles summarises a latency sample.
type Percentiles struct {
	N   int           // sample size
	P50 time.Duration // median
	P99 time.Duration // 99th percentile
}

// percentiles computes nearest-rank percentiles; it sorts d in place.
func percentiles(d []time.Duration) Percentiles {
	if len(d) == 0 {
		return Percentiles{}
	}
	slices.Sort(d)
	return Percentiles{N: len(d), P50: rank(d, 50), P99: rank(d, 99)}
}

// rank returns the nearest-rank p-th percentile of sorted d: the smallest
// value with at least p% of the sample at or below it.
func rank(sorted []time.Duration, p int) time.Duration {
	i := (p*len(sorted)+99)/100 - 1
	return sorted[max(i, 0)]
}
