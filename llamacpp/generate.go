package llamacpp

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/hybridgroup/yzma/pkg/llama"
)

// Finish reasons reported in Result.FinishReason.
const (
	FinishStop   = "stop"   // end-of-generation token or a stop string
	FinishLength = "length" // MaxTokens or the context size reached
)

// request is one Generate call as the scheduler sees it.
type request struct {
	ctx    context.Context
	tokens []llama.Token
	params Params
	ref    *refDraft // nil: no drafting

	mu      sync.Mutex
	pieces  []string      // emitted text not yet handed to onToken
	notify  chan struct{} // capacity 1: pieces has news
	aborted atomic.Bool   // onToken failed: stop generating

	finished chan struct{} // closed by the scheduler; res and err are final
	res      Result
	err      error
}

// push queues emitted text for the caller without blocking the scheduler.
func (r *request) push(s string) {
	if s == "" {
		return
	}
	r.mu.Lock()
	r.pieces = append(r.pieces, s)
	r.mu.Unlock()
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

func (r *request) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.pieces
	r.pieces = nil
	return p
}

// stopped reports why the request must end now, if it must.
func (r *request) stopped() error {
	if r.aborted.Load() {
		return errAborted
	}
	return r.ctx.Err()
}

// errAborted marks a request whose onToken failed; Generate returns that
// error instead.
var errAborted = fmt.Errorf("llamacpp: generation aborted by the token callback")

// Generate completes prompt. Each piece of text is passed to onToken (which
// may be nil) as soon as it is final: never a part of a stop string, never
// a partial UTF-8 sequence. An error from onToken stops generation and is
// returned. Cancelling ctx stops decoding within one step and frees the
// sequence. Errors: ErrInvalidParams, ErrEmptyPrompt, ErrPromptTooLong,
// ErrQueueFull, ErrClosed, ErrDecode or ctx's error.
func (e *Engine) Generate(ctx context.Context, prompt string, p Params, onToken func(piece string) error) (Result, error) {
	if err := p.validate(); err != nil {
		return Result{}, err
	}
	toks, err := e.tokenize(prompt)
	switch {
	case err != nil:
		return Result{}, err
	case len(toks) == 0:
		return Result{}, ErrEmptyPrompt
	case len(toks) >= e.cfg.ContextSize:
		return Result{}, fmt.Errorf("%w: %d prompt tokens, context holds %d", ErrPromptTooLong, len(toks), e.cfg.ContextSize)
	}
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	ref, err := e.newDraft(p)
	if err != nil {
		return Result{}, err
	}
	req := &request{ctx: ctx, tokens: toks, params: p, ref: ref, notify: make(chan struct{}, 1), finished: make(chan struct{})}
	if err := e.admit(req); err != nil {
		return Result{}, err
	}
	return e.wait(req, onToken)
}

// admit counts the request in and hands it to the scheduler, or fails at
// once when Parallel requests run and QueueSize wait.
func (e *Engine) admit(req *request) error {
	limit := int64(e.cfg.Parallel + e.cfg.QueueSize)
	if n := e.inflight.Add(1); n > limit {
		e.inflight.Add(-1)
		return fmt.Errorf("%w: %d running or waiting", ErrQueueFull, limit)
	}
	// submit has room for every admitted request, so this never blocks.
	select {
	case e.sched.submit <- req:
		return nil
	case <-e.sched.done:
		e.inflight.Add(-1)
		return ErrClosed
	}
}

// wait relays pieces to onToken until the scheduler finishes req.
func (e *Engine) wait(req *request, onToken func(string) error) (Result, error) {
	var cbErr error
	deliver := func() {
		for _, s := range req.take() {
			if cbErr == nil && onToken != nil {
				if cbErr = onToken(s); cbErr != nil {
					req.aborted.Store(true)
				}
			}
		}
	}
	for {
		select {
		case <-req.notify:
			deliver()
		case <-req.finished:
			deliver()
			if cbErr != nil {
				return req.res, cbErr
			}
			return req.res, req.err
		case <-e.sched.done:
			select {
			case <-req.finished:
				continue
			default:
				return Result{}, ErrClosed
			}
		}
	}
}
