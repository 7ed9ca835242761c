package main

import (
	"context"
	"sync"
	"time"

	"github.com/aligngate/aligngate/correct"
)

// call is one model generation as the corrector made it.
type call struct {
	Prompt      string
	Params      correct.Params
	Start       time.Time
	FirstToken  time.Time // zero when nothing was generated
	End         time.Time
	Result      correct.Result
	Err         error
	firstMarked bool
}

// Cost is the duration of the whole generation.
func (c call) Cost() time.Duration { return c.End.Sub(c.Start) }

// engine is the adapted engine as the corrector uses it.
type engine interface {
	correct.Model
	correct.TokenCounter
	correct.Identifier
}

// timedModel records every generation of the model it wraps, so that the
// benchmark can tell correction time from everything else.
type timedModel struct {
	engine

	mu    sync.Mutex
	calls []call
}

// Generate times the wrapped model's generation and records it.
func (m *timedModel) Generate(ctx context.Context, prompt string, p correct.Params, onToken func(string) error) (correct.Result, error) {
	c := call{Prompt: prompt, Params: p, Start: time.Now()}
	res, err := m.engine.Generate(ctx, prompt, p, func(piece string) error {
		if !c.firstMarked {
			c.FirstToken, c.firstMarked = time.Now(), true
		}
		if onToken == nil {
			return nil
		}
		return onToken(piece)
	})
	c.End, c.Result, c.Err = time.Now(), res, err
	m.mu.Lock()
	m.calls = append(m.calls, c)
	m.mu.Unlock()
	return res, err
}

// take returns the calls recorded since the last take and forgets them.
func (m *timedModel) take() []call {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := m.calls
	m.calls = nil
	return out
}

var _ engine = (*timedModel)(nil)
