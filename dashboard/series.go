package dashboard

import (
	"sync"
	"time"
)

// sample is one chart point: rates over the interval since the previous
// sample. Pointers are null where the interval had no data.
type sample struct {
	Time         time.Time `json:"time"`
	RequestsPerS float64   `json:"requests_per_s"`
	LatencyP95   *float64  `json:"latency_p95_s"`
	CacheHit     *float64  `json:"cache_hit_ratio"`
	UpstreamErr  *float64  `json:"upstream_error_ratio"`
	TokensPerS   *float64  `json:"tokens_per_second"`
	QueueDepth   float64   `json:"engine_queue_depth"`
	Busy         float64   `json:"engine_busy_sequences"`
}

// totals are the cumulative values a sample is the difference of.
type totals struct {
	at                  time.Time
	requests            float64
	latency             hist
	hits, lookups       float64
	upErr, upAll        float64
	tokensSum, tokensNb float64
}

func totalsOf(v view, at time.Time) totals {
	t := totals{at: at, requests: v.sum(mRequests, nil), latency: v.hist(mReqDuration, nil),
		hits: v.sum(mCache, map[string]string{"outcome": "hit"}), lookups: v.sum(mCache, nil)}
	for status, n := range v.by(mUpstream, "status", nil) {
		t.upAll += n
		if upstreamFailed(status) {
			t.upErr += n
		}
	}
	// Mean of per-correction rates, weighted by count: the histogram's sum
	// over its count.
	tok := v.hist(mTokensPerSec, nil)
	t.tokensSum, t.tokensNb = tok.Sum, tok.Count
	return t
}

// series keeps the last n samples. Safe for concurrent use.
type series struct {
	mu   sync.Mutex
	n    int
	prev *totals
	pts  []sample
}

// observe turns a gathering into a sample (none for the first one, which
// only sets the baseline).
func (s *series) observe(v view, at time.Time) {
	cur := totalsOf(v, at)
	s.mu.Lock()
	defer s.mu.Unlock()
	prev := s.prev
	s.prev = &cur
	if prev == nil {
		return
	}
	secs := cur.at.Sub(prev.at).Seconds()
	if secs <= 0 {
		return
	}
	p := sample{
		Time: at.UTC(), RequestsPerS: (cur.requests - prev.requests) / secs,
		LatencyP95:  num(cur.latency.minus(prev.latency).quantile(0.95)),
		CacheHit:    ratio(cur.hits-prev.hits, cur.lookups-prev.lookups),
		UpstreamErr: ratio(cur.upErr-prev.upErr, cur.upAll-prev.upAll),
		TokensPerS:  ratio(cur.tokensSum-prev.tokensSum, cur.tokensNb-prev.tokensNb),
		QueueDepth:  v.sum(mQueueDepth, nil), Busy: v.sum(mBusy, nil),
	}
	s.pts = append(s.pts, p)
	if len(s.pts) > s.n {
		s.pts = append(s.pts[:0:0], s.pts[len(s.pts)-s.n:]...)
	}
}

func (s *series) points() []sample {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sample{}, s.pts...)
}
