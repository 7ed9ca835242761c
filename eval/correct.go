package eval

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"

	openai "github.com/sashabaranov/go-openai"
	"golang.org/x/sync/errgroup"
)

// Chatter is a judge model: one system and one user message in, the
// reply's text out. An error is retried by nobody above it: an
// implementation retries what is worth retrying itself, and wraps ErrFatal
// around errors that should stop the whole run.
type Chatter interface {
	Chat(ctx context.Context, system, user string) (string, error)
}

// OpenAIChatter is a Chatter on an OpenAI-compatible chat endpoint,
// greedy (temperature 0), retrying 429, 5xx and network errors.
type OpenAIChatter struct {
	Client *openai.Client
	Model  string
	Retry  Retry
}

// Chat implements Chatter.
func (c OpenAIChatter) Chat(ctx context.Context, system, user string) (string, error) {
	req := openai.ChatCompletionRequest{
		Model:       c.Model,
		Temperature: 0,
		Messages: []openai.ChatCompletionMessage{
			{Role: openai.ChatMessageRoleSystem, Content: system},
			{Role: openai.ChatMessageRoleUser, Content: user},
		},
	}
	return chat(ctx, c.Client, c.Retry.withDefaults(), req)
}

// Corrector rewrites one answer to one question. The cmd package adapts
// the configured corrector (in-process llama.cpp or a remote backend) to
// it; eval knows nothing of how corrections are made.
type Corrector interface {
	Correct(ctx context.Context, question, answer string) (string, error)
}

// CorrectOptions configures CorrectAll.
type CorrectOptions struct {
	Concurrency int       // corrections in flight; default 4
	Progress    io.Writer // a line per 10% done; nil: none
	Logger      *slog.Logger
}

// CorrectAll corrects every item and returns the pairs (original =
// the item's answer) in item order, and how many items were left out
// because their correction failed (each is logged). Only a cancelled ctx
// or an ErrFatal error stops it.
func CorrectAll(ctx context.Context, items []Item, c Corrector, o CorrectOptions) ([]Pair, int, error) {
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	corrected := make([]*Pair, len(items))
	var mu sync.Mutex
	failed := 0
	prog := newProgress(o.Progress, len(items))
	prog.noun = "corrections"
	defer prog.finish()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(o.Concurrency)
	for i, it := range items {
		g.Go(func() error {
			defer prog.step()
			text, err := c.Correct(gctx, it.Question, it.Answer)
			if errors.Is(err, ErrFatal) || gctx.Err() != nil {
				return err
			}
			if err != nil {
				o.Logger.Warn("correction failed; item left out", "item", it.ID, "err", err)
				mu.Lock()
				failed++
				mu.Unlock()
				return nil
			}
			corrected[i] = &Pair{ID: PairID(it.Question, it.Answer, text), Item: it.ID, Question: it.Question, Original: it.Answer, Corrected: text}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, 0, fmt.Errorf("eval: correct: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, 0, fmt.Errorf("eval: correct: %w", err)
	}
	var pairs []Pair
	for _, p := range corrected {
		if p != nil {
			pairs = append(pairs, *p)
		}
	}
	return pairs, failed, nil
}
