package correct

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
)

// Session corrects an answer sentence by sentence as the upstream streams it
// (Stream Aligner, follow mode). Write and Close are called from one
// goroutine; corrections run on an internal goroutine, so Write never waits
// for the model.
type Session struct {
	st      *streamer
	ctx     context.Context
	cancel  context.CancelCauseFunc
	aborted atomic.Bool
	split   *Splitter
	wake    chan struct{}
	done    chan struct{}
	mu      sync.Mutex
	queue   []Segment
	closed  bool
	err     error // the first fatal error, set by the worker
}

// Follow starts a follow-mode session for r (r.Answer is ignored). emit
// receives the corrected text in order from one goroutine: corrected
// sentences with their original surrounding whitespace, and code-block lines
// unchanged. Per sentence, a fail-open fallback keeps the original sentence;
// after the first fallback the rest of the answer passes through
// uncorrected. Cancelling ctx stops the session; Close then returns
// ctx.Err().
func (c *Corrector) Follow(ctx context.Context, r Request, emit func(text string) error) *Session {
	ctx, cancel := context.WithCancelCause(ctx)
	s := &Session{ctx: ctx, cancel: cancel, split: NewSplitter(), wake: make(chan struct{}, 1), done: make(chan struct{})}
	st, err := c.newStreamer(r, func(text string) error {
		if s.aborted.Load() {
			return ErrSessionAborted
		}
		return emit(text)
	})
	if err != nil {
		s.err = err
		close(s.done)
		return s
	}
	s.st = st
	go s.work()
	return s
}

// Write adds an upstream text delta. It returns the session's error once
// the session failed (emit error, fail-closed fallback, cancelled ctx).
func (s *Session) Write(delta string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	if s.closed {
		return ErrSessionClosed
	}
	s.push(s.split.Write(delta))
	return nil
}

// push queues segments and wakes the worker; s.mu is held.
func (s *Session) push(segs []Segment) {
	if len(segs) == 0 {
		return
	}
	s.queue = append(s.queue, segs...)
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Close flushes the tail, waits for every correction and returns the
// Outcome: Text is the whole emitted answer, Fallback the first sentence
// fallback. On a fatal error Outcome holds what was emitted so far.
func (s *Session) Close() (Outcome, error) {
	s.mu.Lock()
	if !s.closed && s.err == nil {
		s.closed = true
		s.push(s.split.Flush())
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
	s.closed = true
	s.mu.Unlock()
	<-s.done
	s.cancel(nil)
	return s.outcome(), s.err
}

// Abort stops the session at once, for an upstream that failed or a
// client that is gone: queued sentences are dropped, the correction in
// flight is cancelled, and nothing is emitted once Abort has returned.
// It returns the Outcome emitted so far.
func (s *Session) Abort() Outcome {
	s.aborted.Store(true)
	s.mu.Lock()
	s.closed = true
	s.queue = nil
	s.mu.Unlock()
	s.cancel(ErrSessionAborted)
	<-s.done
	s.fail(ErrSessionAborted)
	return s.outcome()
}

func (s *Session) outcome() Outcome {
	if s.st == nil {
		return Outcome{}
	}
	return s.st.outcome()
}

// work corrects queued segments in order until Close or a fatal error.
func (s *Session) work() {
	defer close(s.done)
	for {
		seg, ok := s.next()
		if !ok {
			return
		}
		if err := s.st.handle(s.ctx, seg); err != nil {
			s.fail(err)
			return
		}
	}
}

// next waits for the next segment; false when closed and drained or when
// ctx is done.
func (s *Session) next() (Segment, bool) {
	for {
		s.mu.Lock()
		if len(s.queue) > 0 {
			seg := s.queue[0]
			s.queue = s.queue[1:]
			s.mu.Unlock()
			return seg, true
		}
		closed := s.closed
		s.mu.Unlock()
		if closed {
			return Segment{}, false
		}
		select {
		case <-s.wake:
		case <-s.ctx.Done():
			s.fail(context.Cause(s.ctx))
			return Segment{}, false
		}
	}
}

// fail records the first fatal error.
func (s *Session) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = err
	}
}

// Guide corrects an answer in guide mode (the Stream Aligner loop): it asks
// up for the next sentence after the corrected prefix, corrects it, emits
// it, and repeats until the upstream ends its answer (done, or no text) or
// Config.MaxRounds calls were made (Outcome.Truncated). An upstream error is
// returned wrapped, with the Outcome emitted so far.
func (c *Corrector) Guide(ctx context.Context, r Request, up Upstream, emit func(text string) error) (Outcome, error) {
	st, err := c.newStreamer(r, emit)
	if err != nil {
		return Outcome{}, err
	}
	split := NewSplitter()
	for {
		if st.out.Rounds >= c.cfg.MaxRounds {
			st.out.Truncated = true
			return st.outcome(), nil
		}
		text, done, err := up.Next(ctx, st.text.String())
		st.out.Rounds++
		if err != nil {
			if ctx.Err() != nil {
				return st.outcome(), context.Cause(ctx)
			}
			return st.outcome(), fmt.Errorf("correct: guide upstream: %w", err)
		}
		for _, seg := range append(split.Write(text), split.Flush()...) {
			if err := st.handle(ctx, seg); err != nil {
				return st.outcome(), err
			}
		}
		if st.budget == 0 && !done && text != "" {
			st.out.Cut = true // the client's cap is spent before the answer ended
		}
		if done || text == "" || st.out.Cut {
			return st.outcome(), nil
		}
	}
}
