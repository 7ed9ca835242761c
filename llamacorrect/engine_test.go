package llamacorrect

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aligngate/aligngate/correct"
	"github.com/aligngate/aligngate/internal/testenv"
	"github.com/aligngate/aligngate/llamacpp"
	"github.com/aligngate/aligngate/llamacpp/gguf"
)

// The adapted local engine satisfies the interfaces correct declares.
var (
	_ correct.Model        = New((*llamacpp.Engine)(nil))
	_ correct.TokenCounter = New((*llamacpp.Engine)(nil))
	_ correct.Identifier   = New((*llamacpp.Engine)(nil))
)

// openEngine opens the real llama.cpp engine on the tiny random model. It
// skips without the libraries (YZMA_LIB), and fails instead under CI=true.
func openEngine(t *testing.T, contextSize int) *Model {
	t.Helper()
	dir := testenv.LlamaLib(t)
	path := filepath.Join(t.TempDir(), "tiny.gguf")
	if err := gguf.WriteLlama(path, gguf.TinySpec()); err != nil {
		t.Fatal(err)
	}
	e, err := llamacpp.Open(llamacpp.Config{ModelPath: path, LibDir: dir, ContextSize: contextSize, Parallel: 2, Threads: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return New(e)
}

func TestAlignWithEngine(t *testing.T) {
	e := openEngine(t, 512)
	c := newTestCorrector(t, e, &memCache{}, nil)
	r := correct.Request{Question: "What is the capital of France?", Answer: "Paris is the capital of France."}
	var got collector
	first, err := c.Align(context.Background(), r, got.emit)
	if err != nil {
		t.Fatal(err)
	}
	switch first.Fallback {
	case "":
		if first.Text == "" || got.text() != first.Text || first.TokensIn == 0 {
			t.Errorf("outcome %+v, emitted %q", first, got.text())
		}
	case correct.FallbackEmpty:
		if first.Text != r.Answer {
			t.Errorf("fallback text %q", first.Text)
		}
	default:
		t.Fatalf("unexpected fallback: %+v", first)
	}
	// Greedy decoding is deterministic, so an uncached rerun agrees.
	r.NoCache = true
	again, err := c.Align(context.Background(), r, nil)
	if err != nil || again.Text != first.Text {
		t.Errorf("greedy rerun %q (%v), first %q", again.Text, err, first.Text)
	}
}

func TestFollowWithEngine(t *testing.T) {
	e := openEngine(t, 512)
	c := newTestCorrector(t, e, nil, nil)
	var got collector
	s := c.Follow(context.Background(), correct.Request{Mode: correct.ModeStream, Question: "Say hi."}, got.emit)
	for _, ch := range []string{"Hi there.\n", "```\nx.\n```\n", "Bye."} {
		if err := s.Write(ch); err != nil {
			t.Fatal(err)
		}
	}
	out, err := s.Close()
	if err != nil || out.Sentences != 2 || got.text() != out.Text || !strings.Contains(out.Text, "```\nx.\n```\n") {
		t.Fatalf("%+v %v", out, err)
	}
}

func TestEngineTooLongAndCancel(t *testing.T) {
	e := openEngine(t, 64)
	c := newTestCorrector(t, e, nil, nil)
	long := strings.Repeat("a long answer ", 40)
	out, err := c.Align(context.Background(), correct.Request{Answer: long}, nil)
	if err != nil || out.Fallback != correct.FallbackTooLong || out.Text != long {
		t.Errorf("too long: %+v %v", out, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Align(ctx, correct.Request{Answer: "short."}, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// newTestCorrector builds a corrector on m as the local backend.
func newTestCorrector(t *testing.T, m correct.Model, cache correct.Cache, _ func(*correct.Config)) *correct.Corrector {
	t.Helper()
	c, err := correct.New(correct.Config{}, map[string]correct.Model{correct.BackendLocal: m}, cache, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// collector gathers emitted pieces.
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

// memCache is an in-memory correct.Cache.
type memCache struct {
	mu sync.Mutex
	m  map[string]string
}

func (c *memCache) Do(ctx context.Context, key, _ string, compute func(context.Context) (string, error)) (string, string, error) {
	c.mu.Lock()
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
