package telemetry

import (
	"context"
	"sync"
	"time"
)

// RequestInfo holds per-request annotations that handlers fill in and that
// Wrap turns into span attributes, metric labels and the request log line.
//
// The handler goroutine may set fields directly. Any other goroutine (a
// stream corrector, say) must go through Update, and so must the handler
// while such goroutines run. Metrics methods annotate it themselves.
type RequestInfo struct {
	mu sync.Mutex

	// Route is the normalized route (see Route); Wrap sets it.
	Route string
	// Model is the requested upstream model (gen_ai.request.model).
	Model string
	// Mode is the correction mode (off, aligner, stream...).
	Mode string
	// Arm and Experiment name the experiment arm the request was assigned.
	Arm, Experiment string
	// Cache is the correction cache outcome (hit, miss, error) if looked up.
	Cache string
	// Fallback is why the uncorrected answer was served, if it was.
	Fallback string
	// ErrorKind is a closed-vocabulary error label (caller_*, provider_*...).
	ErrorKind string
	// Corrected reports whether the answer sent was rewritten.
	Corrected bool
	// Stream reports whether the response was streamed (SSE). When
	// FirstByte is not set, the first body write of a stream counts.
	Stream bool
	// FirstByte is the time from request start to the first answer token
	// sent to the client; 0 means unknown.
	FirstByte time.Duration
	// Upstream is the total time spent in upstream calls.
	Upstream time.Duration
	// UpstreamTTFB is the first upstream call's time to first byte.
	UpstreamTTFB time.Duration
	// InputTokens and OutputTokens are the upstream usage, when reported.
	InputTokens, OutputTokens int
	// Drafted and Accepted count the correction engine's reference-drafted
	// tokens (speculative decoding).
	Drafted, Accepted int
}

// Update runs f with the info locked; use it from goroutines other than the
// handler's.
func (i *RequestInfo) Update(f func(*RequestInfo)) {
	i.mu.Lock()
	defer i.mu.Unlock()
	f(i)
}

// infoSnapshot is a lock-free copy read by Wrap once the handler returned.
type infoSnapshot struct {
	Route, Model, Mode, Arm, Experiment, Cache, Fallback, ErrorKind string
	Corrected, Stream                                               bool
	FirstByte, Upstream, UpstreamTTFB                               time.Duration
	InputTokens, OutputTokens                                       int
	Drafted, Accepted                                               int
	ttft                                                            time.Duration // FirstByte, or the measured first stream write
}

func (i *RequestInfo) snapshot() infoSnapshot {
	i.mu.Lock()
	defer i.mu.Unlock()
	return infoSnapshot{
		Route: i.Route, Model: i.Model, Mode: i.Mode, Arm: i.Arm, Experiment: i.Experiment,
		Cache: i.Cache, Fallback: i.Fallback, ErrorKind: i.ErrorKind,
		Corrected: i.Corrected, Stream: i.Stream,
		FirstByte: i.FirstByte, Upstream: i.Upstream, UpstreamTTFB: i.UpstreamTTFB,
		InputTokens: i.InputTokens, OutputTokens: i.OutputTokens,
		Drafted: i.Drafted, Accepted: i.Accepted,
	}
}

type infoKey struct{}

// WithInfo returns ctx carrying info. Wrap does this; tests and callers that
// bypass Wrap may too.
func WithInfo(ctx context.Context, info *RequestInfo) context.Context {
	return context.WithValue(ctx, infoKey{}, info)
}

// Info returns the request's annotations. It never returns nil: outside a
// wrapped request it returns a fresh throwaway value.
func Info(ctx context.Context) *RequestInfo {
	if i, ok := ctx.Value(infoKey{}).(*RequestInfo); ok {
		return i
	}
	return &RequestInfo{}
}
