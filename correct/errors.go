package correct

import (
	"context"
	"errors"
	"fmt"
)

// Fallback reasons: the closed vocabulary of Outcome.Fallback and
// FallbackError.Reason, usable as metric labels.
const (
	FallbackTimeout = "timeout"  // the latency budget ran out
	FallbackBackend = "error"    // the backend failed
	FallbackTooLong = "too_long" // the prompt does not fit the model context
	FallbackBusy    = "busy"     // the backend queue is full
	FallbackEmpty   = "empty"    // the model produced nothing after cleaning
	FallbackBudget  = "budget"   // the answer's overall stream-mode budget ran out
)

// Sentinel errors that backends may return (wrapped) so the corrector picks
// the right fallback reason. Each backend's adapter maps its own errors to
// these.
var (
	// ErrBusy reports a backend that refused work because it is saturated
	// (remote 429/503). It maps to FallbackBusy.
	ErrBusy = errors.New("correct: backend busy")
	// ErrTooLong reports a prompt that does not fit the model context. It
	// maps to FallbackTooLong.
	ErrTooLong = errors.New("correct: prompt too long for model context")
	// ErrEmpty reports a correction that was empty after cleaning. It maps
	// to FallbackEmpty.
	ErrEmpty = errors.New("correct: empty correction")
	// ErrUnknownBackend reports a Request naming a backend New was not given.
	ErrUnknownBackend = errors.New("correct: unknown backend")
	// ErrUnknownTemplate reports a Request or Config naming no template.
	ErrUnknownTemplate = errors.New("correct: unknown template")
	// ErrTemplateMode reports a template used in a mode it has no
	// placeholder for: {answer} for aligner, {sentence} for stream.
	ErrTemplateMode = errors.New("correct: template does not fit the mode")
	// ErrSessionClosed reports a Write after Close.
	ErrSessionClosed = errors.New("correct: session closed")
	// ErrSessionAborted is a session's error after Abort.
	ErrSessionAborted = errors.New("correct: session aborted")
)

// FallbackError is returned in fail-closed mode when a correction could not
// be made. Reason is one of the Fallback* constants.
type FallbackError struct {
	Reason string
	Err    error
}

// Error implements error.
func (e *FallbackError) Error() string {
	if e.Err == nil {
		return "correct: fallback " + e.Reason
	}
	return fmt.Sprintf("correct: fallback %s: %v", e.Reason, e.Err)
}

// Unwrap returns the underlying error.
func (e *FallbackError) Unwrap() error { return e.Err }

// fallbackReason classifies a generation error that did not come from the
// parent context. budget is the context the generation ran under.
func fallbackReason(budget context.Context, err error) string {
	switch {
	case isBusy(err):
		return FallbackBusy
	case errors.Is(err, ErrTooLong):
		return FallbackTooLong
	case errors.Is(err, ErrEmpty):
		return FallbackEmpty
	case errors.Is(budget.Err(), context.DeadlineExceeded), errors.Is(err, context.DeadlineExceeded):
		return FallbackTimeout
	default:
		return FallbackBackend
	}
}

// isBusy reports whether err means the backend is saturated.
func isBusy(err error) bool {
	return errors.Is(err, ErrBusy)
}

var _ error = (*FallbackError)(nil)
