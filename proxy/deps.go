package proxy

import (
	"context"
	"time"

	"github.com/aligngate/aligngate/correct"
	"github.com/aligngate/aligngate/policies"
)

// Decider decides each request's correction; *policies.Engine is one.
type Decider interface {
	Decide(policies.Facts) policies.Decision
}

// Corrector corrects answers in the three ways the handlers drive;
// *correct.Corrector is one.
type Corrector interface {
	Align(ctx context.Context, r correct.Request, onToken func(string) error) (correct.Outcome, error)
	Follow(ctx context.Context, r correct.Request, emit func(string) error) *correct.Session
	Guide(ctx context.Context, r correct.Request, up correct.Upstream, emit func(string) error) (correct.Outcome, error)
}

// Recorder receives the records of enrolled requests;
// *policies.AsyncRecorder is one.
type Recorder interface {
	Record(policies.Record)
}

// CorrectionSettings are the correction defaults the proxy itself uses,
// given as values rather than read from the corrector.
type CorrectionSettings struct {
	// Backend labels correction metrics when a policy names none.
	Backend string
	// Drive is how stream mode drives an upstream that sets none:
	// "follow" or "guide".
	Drive string
	// MultiTurn serialises earlier turns into the corrector's question.
	MultiTurn bool
	// Keepalive is the interval of SSE comments an aligner-mode stream
	// sends while it collects the upstream answer (after the role chunk,
	// sent as soon as the upstream starts); 0 sends neither.
	Keepalive time.Duration
}

var (
	_ Decider   = (*policies.Engine)(nil)
	_ Corrector = (*correct.Corrector)(nil)
	_ Recorder  = (*policies.AsyncRecorder)(nil)
)
