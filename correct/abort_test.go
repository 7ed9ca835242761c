package correct

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
)

// TestFollowAbortStopsAtOnce: Abort cancels the correction in flight, drops
// the queued sentences without a model call, and emits nothing, not even
// a fail-open original.
func TestFollowAbortStopsAtOnce(t *testing.T) {
	started := make(chan struct{})
	m := &fakeModel{by: block(started)}
	c := newTestCorrector(t, m, nil, nil)
	var emitted atomic.Int32
	s := c.Follow(context.Background(), Request{Mode: ModeStream}, func(string) error { emitted.Add(1); return nil })
	if err := s.Write("Sentence one. Sentence two. Sentence three. Four"); err != nil {
		t.Fatal(err)
	}
	<-started
	s.Abort()
	if n := len(m.calls()); n != 1 {
		t.Errorf("%d model calls, want only the one in flight", n)
	}
	if len(m.ctxErrs) != 1 || m.ctxErrs[0] == nil {
		t.Errorf("the correction in flight was not cancelled: %v", m.ctxErrs)
	}
	if n := emitted.Load(); n != 0 {
		t.Errorf("%d emits during or after Abort", n)
	}
	if err := s.Write("More."); !errors.Is(err, ErrSessionAborted) {
		t.Errorf("Write after Abort: %v", err)
	}
	if _, err := s.Close(); !errors.Is(err, ErrSessionAborted) {
		t.Errorf("Close after Abort: %v", err)
	}
}
