package cache

import (
	"log/slog"
	"sync"
	"time"
)

// logEvery is the minimum gap between two logged store failures.
const logEvery = 10 * time.Second

// rateLog logs at most one warning per interval and counts the ones it
// swallowed, so a Redis outage under load does not flood the log.
type rateLog struct {
	logger *slog.Logger
	every  time.Duration
	now    func() time.Time

	mu         sync.Mutex
	last       time.Time
	suppressed int
}

func newRateLog(logger *slog.Logger, every time.Duration) *rateLog {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &rateLog{logger: logger, every: every, now: time.Now}
}

// Warn logs msg unless another warning was logged less than every ago.
// It reports whether it logged.
func (r *rateLog) Warn(msg string, args ...any) bool {
	r.mu.Lock()
	now := r.now()
	if !r.last.IsZero() && now.Sub(r.last) < r.every {
		r.suppressed++
		r.mu.Unlock()
		return false
	}
	n := r.suppressed
	r.suppressed, r.last = 0, now
	r.mu.Unlock()
	r.logger.Warn(msg, append(args, slog.Int("suppressed", n))...)
	return true
}
