package correct

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// fakeModel is a test double for a correction model. by decides the raw
// output for a prompt; the output is streamed in word pieces.
type fakeModel struct {
	by func(ctx context.Context, prompt string) (string, error)

	mu      sync.Mutex
	prompts []string
	params  []Params
	ctxErrs []error // ctx.Err() seen when each generation returned
}

// Generate implements Model.
func (m *fakeModel) Generate(ctx context.Context, prompt string, p Params, onToken func(string) error) (Result, error) {
	m.mu.Lock()
	m.prompts = append(m.prompts, prompt)
	m.params = append(m.params, p)
	m.mu.Unlock()
	out, err := m.by(ctx, prompt)
	defer func() {
		m.mu.Lock()
		m.ctxErrs = append(m.ctxErrs, ctx.Err())
		m.mu.Unlock()
	}()
	res := Result{PromptTokens: len(prompt) / 4, FinishReason: "stop"}
	for _, piece := range wordPieces(out) {
		res.CompletionTokens++
		if onToken != nil {
			if err := onToken(piece); err != nil {
				return res, err
			}
		}
	}
	res.Text = out
	return res, err
}

// calls returns the prompts received so far.
func (m *fakeModel) calls() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.prompts...)
}

// counterModel is a fakeModel that counts tokens as bytes/4 within ctxSize.
type counterModel struct {
	*fakeModel
	ctxSize int
}

func (m counterModel) CountTokens(text string) (int, error) { return len(text) / 4, nil }
func (m counterModel) ContextSize() int                     { return m.ctxSize }

var sentenceRE = regexp.MustCompile(`(?s)##Answer_Prefix: (.*) \| ##Answer_Last_Sentence: (.*) \| ##Your_Revision: `)

// streamFields returns the prefix and sentence of a stream-gemma prompt.
func streamFields(t *testing.T, prompt string) (prefix, sentence string) {
	t.Helper()
	m := sentenceRE.FindStringSubmatch(prompt)
	if m == nil {
		t.Fatalf("not a stream prompt: %q", prompt)
	}
	return m[1], m[2]
}

// upper corrects by upper-casing: the answer (aligner) or the sentence
// (stream), with a leading space and an end marker for cleaning to remove.
func upper(_ context.Context, prompt string) (string, error) {
	if m := sentenceRE.FindStringSubmatch(prompt); m != nil {
		return " " + strings.ToUpper(m[2]) + "<end_of_turn>", nil
	}
	i := strings.LastIndex(prompt, " | ")
	j := strings.LastIndex(prompt, " ASSISTANT:")
	return " " + strings.ToUpper(prompt[i+3:j]) + " </s>", nil
}

// block waits for ctx to be done, closing started first if not nil.
func block(started chan<- struct{}) func(context.Context, string) (string, error) {
	return func(ctx context.Context, _ string) (string, error) {
		if started != nil {
			close(started)
		}
		<-ctx.Done()
		return "", ctx.Err()
	}
}

// fail returns err for every prompt.
func fail(err error) func(context.Context, string) (string, error) {
	return func(context.Context, string) (string, error) { return "", err }
}

// memCache is an in-memory Cache test double with the cache package's
// outcomes.
type memCache struct {
	mu   sync.Mutex
	m    map[string]string
	keys []string
}

func (c *memCache) Do(ctx context.Context, key, _ string, compute func(context.Context) (string, error)) (string, string, error) {
	c.mu.Lock()
	c.keys = append(c.keys, key)
	v, ok := c.m[key]
	c.mu.Unlock()
	if ok {
		return v, "hit", nil
	}
	v, err := compute(ctx)
	if err != nil {
		return "", "miss", err
	}
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]string{}
	}
	c.m[key] = v
	c.mu.Unlock()
	return v, "miss", nil
}

// brokenCache fails without computing.
type brokenCache struct{}

func (brokenCache) Do(context.Context, string, string, func(context.Context) (string, error)) (string, string, error) {
	return "", "error", errors.New("redis down")
}

// newTestCorrector returns a Corrector over m as the local backend.
func newTestCorrector(t *testing.T, m Model, cache Cache, mod func(*Config)) *Corrector {
	t.Helper()
	cfg := Config{}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg, map[string]Model{BackendLocal: m}, cache, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// collector gathers emitted text.
type collector struct {
	mu     sync.Mutex
	pieces []string
}

func (c *collector) emit(s string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pieces = append(c.pieces, s)
	return nil
}

func (c *collector) text() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.pieces, "")
}

// generateFunc is a Model whose generation is scripted through onToken.
type generateFunc func(ctx context.Context, onToken func(string) error) error

func (f generateFunc) Generate(ctx context.Context, _ string, _ Params, onToken func(string) error) (Result, error) {
	return Result{}, f(ctx, onToken)
}
