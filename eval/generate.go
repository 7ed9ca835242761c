package eval

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"sync"

	openai "github.com/sashabaranov/go-openai"
	"golang.org/x/sync/errgroup"
)

// ModeHeader is the header Generate sets to pick each arm; the target's
// policy must allow it (allow_mode_header: true).
const ModeHeader = "X-Aligngate-Mode"

// GenerateOptions configures Generate.
type GenerateOptions struct {
	Questions []string
	// Target is the aligngate base URL, e.g. http://localhost:8080/v1.
	Target string
	APIKey string // key for the target, may be empty
	Model  string // model to request
	// PairsPath is a JSONL file the pairs are appended to; questions
	// already answered there are not asked again. "" keeps nothing.
	PairsPath   string
	Concurrency int // default 4
	Retry       Retry
	Logger      *slog.Logger
}

// Generate asks the target each question twice, with X-Aligngate-Mode off
// and aligner, and returns the pairs (previous ones from PairsPath first).
// A question whose calls keep failing is logged and left out.
func Generate(ctx context.Context, o GenerateOptions) ([]Pair, error) {
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	o.Retry = o.Retry.withDefaults()
	clients := map[string]*openai.Client{}
	for _, mode := range []string{"off", "aligner"} {
		c, err := NewClient(ClientOptions{BaseURL: o.Target, APIKey: o.APIKey, Header: http.Header{ModeHeader: {mode}}})
		if err != nil {
			return nil, err
		}
		clients[mode] = c
	}
	pairs, err := loadPairsFile(o.PairsPath)
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	for _, p := range pairs {
		have[p.Question] = true
	}
	out, err := openAppend(o.PairsPath)
	if err != nil {
		return nil, err
	}
	defer out.close()

	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(o.Concurrency)
	for _, q := range o.Questions {
		if have[q] {
			continue
		}
		have[q] = true
		g.Go(func() error {
			p, err := generateOne(gctx, clients, o, q)
			if errors.Is(err, ErrFatal) {
				return err
			}
			if err != nil {
				o.Logger.Warn("question skipped", "err", err)
				return nil
			}
			mu.Lock()
			defer mu.Unlock()
			pairs = append(pairs, p)
			return out.write(p)
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return pairs, ctx.Err()
}

func generateOne(ctx context.Context, clients map[string]*openai.Client, o GenerateOptions, q string) (Pair, error) {
	var answers [2]string
	for i, mode := range []string{"off", "aligner"} {
		req := openai.ChatCompletionRequest{Model: o.Model, Messages: []openai.ChatCompletionMessage{{Role: openai.ChatMessageRoleUser, Content: q}}}
		a, err := chat(ctx, clients[mode], o.Retry, req)
		if err != nil {
			return Pair{}, fmt.Errorf("eval: target (%s: %s): %w", ModeHeader, mode, err)
		}
		answers[i] = a
	}
	return Pair{ID: PairID(q, answers[0], answers[1]), Question: q, Original: answers[0], Corrected: answers[1]}, nil
}

func loadPairsFile(path string) ([]Pair, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("eval: pairs: %w", err)
	}
	defer f.Close()
	return LoadPairs(f)
}

// appender appends JSON lines to a file, or discards them without a path.
type appender struct{ f *os.File }

func openAppend(path string) (*appender, error) {
	if path == "" {
		return &appender{}, nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("eval: pairs: %w", err)
	}
	return &appender{f: f}, nil
}

func (a *appender) write(v any) error {
	if a.f == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("eval: pairs: %w", err)
	}
	if _, err := a.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("eval: pairs: %w", err)
	}
	return nil
}

func (a *appender) close() {
	if a.f != nil {
		a.f.Close()
	}
}
