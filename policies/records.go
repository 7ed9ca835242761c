package policies

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Record is one experiment request's outcome. It never holds keys or auth
// headers, and the unit only as a hash. Question and answers are kept only
// when CaptureContent is set (the recorder blanks them otherwise).
type Record struct {
	Time       time.Time `json:"time"`
	Experiment string    `json:"experiment"`
	Arm        string    `json:"arm"`
	UnitHash   string    `json:"unit_hash"`
	Model      string    `json:"model"`
	Mode       string    `json:"mode"`
	// Question, OriginalAnswer and CorrectedAnswer are content; empty
	// unless the experiment has capture_content.
	Question        string `json:"question,omitempty"`
	OriginalAnswer  string `json:"original_answer,omitempty"`
	CorrectedAnswer string `json:"corrected_answer,omitempty"`
	UpstreamMS      int64  `json:"upstream_ms"`
	CorrectionMS    int64  `json:"correction_ms"`
	// Cache is the cache outcome: hit, miss or off.
	Cache string `json:"cache,omitempty"`
	// Corrected reports whether the answer served was rewritten.
	Corrected bool `json:"corrected"`
	// Fallback reports whether a correction failure served the original.
	Fallback       bool   `json:"fallback"`
	FallbackReason string `json:"fallback_reason,omitempty"`
	// Route is the request's route label (telemetry.Route), e.g.
	// /v1/chat/completions; empty when unknown.
	Route string `json:"route,omitempty"`
	// LatencyMS is the whole request's duration, upstream and correction
	// included; 0 when unknown.
	LatencyMS int64 `json:"latency_ms,omitempty"`
	// DraftTokens and DraftAccepted count the correction's speculative
	// draft tokens proposed and accepted; both 0 when no draft ran.
	DraftTokens   int `json:"draft_tokens,omitempty"`
	DraftAccepted int `json:"draft_accepted,omitempty"`
	// CaptureContent reports whether content may be written; not stored.
	CaptureContent bool `json:"-"`
}

// NewRecord starts a record for an enrolled request from its decision.
func (d Decision) NewRecord(model string, at time.Time) Record {
	return Record{
		Time: at.UTC(), Experiment: d.Experiment, Arm: d.Arm, UnitHash: d.UnitHash,
		Model: model, Mode: d.Mode, CaptureContent: d.CaptureContent,
	}
}

// Redacted returns r with content blanked unless capture is on: the rule
// every consumer of records (sinks, the dashboard's ring) applies.
func (r Record) Redacted() Record { return r.redact() }

// redact blanks content unless capture is on.
func (r Record) redact() Record {
	if !r.CaptureContent {
		r.Question, r.OriginalAnswer, r.CorrectedAnswer = "", "", ""
	}
	return r
}

// Recorder takes records without blocking the request.
type Recorder interface {
	Record(Record)
}

// sink writes encoded records; it is used by one goroutine only.
type sink interface {
	write(r Record, line []byte) error
	flush() error
	close() error
}

// AsyncRecorder queues records in a bounded channel drained by one writer
// goroutine. When the queue is full, records are dropped and counted; the
// request is never slowed.
type AsyncRecorder struct {
	ch      chan Record
	mu      sync.RWMutex // guards closed against sends on a closed channel
	closed  bool
	done    chan struct{}
	dropped atomic.Uint64
	failed  atomic.Uint64
	written atomic.Uint64
	logger  *slog.Logger
	sink    sink
	err     error // first close/flush error, read after done
}

// NewRecorder starts a recorder for cfg (defaults applied to a copy).
// Sink off returns a recorder that discards everything.
func NewRecorder(cfg RecordsConfig, logger *slog.Logger) (*AsyncRecorder, error) {
	cfg.setDefaults()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	var s sink
	switch cfg.Sink {
	case SinkFile:
		s = newFileSink(cfg.Path, cfg.MaxBytes, cfg.MaxBackups)
	case SinkRedis:
		rs, err := newRedisSink(cfg.RedisURL, cfg.Stream, cfg.MaxLen)
		if err != nil {
			return nil, err
		}
		s = rs
	case SinkOff:
		s = nopSink{}
	default:
		return nil, &FieldError{Key: "policies.records.sink", Err: fmt.Errorf("%w: unknown sink %q", ErrInvalid, cfg.Sink)}
	}
	r := &AsyncRecorder{
		ch: make(chan Record, cfg.Buffer), done: make(chan struct{}),
		logger: logger, sink: s,
	}
	go r.run()
	return r, nil
}

// Record queues rec, or drops it when the queue is full or the recorder is
// closed. It never blocks.
func (r *AsyncRecorder) Record(rec Record) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.closed {
		r.dropped.Add(1)
		return
	}
	select {
	case r.ch <- rec:
	default:
		r.dropped.Add(1)
	}
}

// Dropped returns how many records were dropped because the queue was full
// or the recorder was closed.
func (r *AsyncRecorder) Dropped() uint64 { return r.dropped.Load() }

// Failed returns how many records the sink failed to write.
func (r *AsyncRecorder) Failed() uint64 { return r.failed.Load() }

// Written returns how many records the sink accepted.
func (r *AsyncRecorder) Written() uint64 { return r.written.Load() }

// Close stops taking records, writes the queued ones, flushes and closes
// the sink. It is safe to call more than once.
func (r *AsyncRecorder) Close() error {
	r.mu.Lock()
	if !r.closed {
		r.closed = true
		close(r.ch)
	}
	r.mu.Unlock()
	<-r.done
	return r.err
}

func (r *AsyncRecorder) run() {
	defer close(r.done)
	for rec := range r.ch {
		r.writeOne(rec)
		if len(r.ch) == 0 {
			if err := r.sink.flush(); err != nil {
				r.logger.Warn("records flush failed", "err", err)
			}
		}
	}
	err := r.sink.flush()
	if cerr := r.sink.close(); err == nil {
		err = cerr
	}
	r.err = err
}

func (r *AsyncRecorder) writeOne(rec Record) {
	rec = rec.redact()
	line, err := json.Marshal(rec)
	if err == nil {
		err = r.sink.write(rec, append(line, '\n'))
	}
	if err != nil {
		// Log the first failure and then every 1000th, not every record.
		if n := r.failed.Add(1); n == 1 || n%1000 == 0 {
			r.logger.Warn("records write failed", "err", err, "failed_total", n)
		}
		return
	}
	r.written.Add(1)
}

type nopSink struct{}

func (nopSink) write(Record, []byte) error { return nil }
func (nopSink) flush() error               { return nil }
func (nopSink) close() error               { return nil }

var (
	_ Recorder  = (*AsyncRecorder)(nil)
	_ io.Closer = (*AsyncRecorder)(nil)
	_ sink      = nopSink{}
)
