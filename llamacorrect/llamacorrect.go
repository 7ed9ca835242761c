// Package llamacorrect adapts the in-process llama.cpp engine to the
// corrector: it translates correct.Params and correct.Result to and from
// llamacpp's own types and maps llamacpp's errors to correct's kinds
// (a full queue is correct.ErrBusy, an oversized prompt correct.ErrTooLong).
//
// It is the only package that imports both correct and llamacpp, so that
// neither imports the other. It knows nothing of HTTP.
package llamacorrect

import (
	"context"
	"errors"
	"fmt"

	"github.com/aligngate/aligngate/correct"
	"github.com/aligngate/aligngate/llamacpp"
)

// Engine is what the adapter needs of *llamacpp.Engine.
type Engine interface {
	Generate(ctx context.Context, prompt string, p llamacpp.Params, onToken func(piece string) error) (llamacpp.Result, error)
	CountTokens(text string) (int, error)
	ContextSize() int
	ModelID() string
}

// chatEngine is the optional chat-template ability of an Engine.
type chatEngine interface {
	ApplyChatTemplate(msgs []llamacpp.ChatMessage, addAssistant bool) (string, error)
	ChatTemplate() string
	ModelName() string
}

// Model is a correct.Model, TokenCounter and Identifier backed by an Engine.
type Model struct{ e Engine }

// New adapts e.
func New(e Engine) *Model { return &Model{e: e} }

// Generate implements correct.Model.
func (m *Model) Generate(ctx context.Context, prompt string, p correct.Params, onToken func(string) error) (correct.Result, error) {
	r, err := m.e.Generate(ctx, prompt, params(p), onToken)
	return result(r), mapError(err)
}

// CountTokens implements correct.TokenCounter.
func (m *Model) CountTokens(text string) (int, error) {
	n, err := m.e.CountTokens(text)
	return n, mapError(err)
}

// ContextSize implements correct.TokenCounter.
func (m *Model) ContextSize() int { return m.e.ContextSize() }

// ModelID implements correct.Identifier.
func (m *Model) ModelID() string { return m.e.ModelID() }

// ModelName implements correct.Describer: the GGUF's general.name.
func (m *Model) ModelName() string {
	if ce, ok := m.e.(chatEngine); ok {
		return ce.ModelName()
	}
	return ""
}

// HasChatTemplate implements correct.Describer: whether the GGUF carries
// tokenizer.chat_template.
func (m *Model) HasChatTemplate() bool {
	ce, ok := m.e.(chatEngine)
	return ok && ce.ChatTemplate() != ""
}

// RenderChat implements correct.ChatRenderer with the model's own chat
// template, the assistant turn opened.
func (m *Model) RenderChat(turns []correct.Turn) (string, error) {
	ce, ok := m.e.(chatEngine)
	if !ok {
		return "", fmt.Errorf("llamacorrect: engine cannot apply a chat template: %w", llamacpp.ErrChatTemplate)
	}
	msgs := make([]llamacpp.ChatMessage, len(turns))
	for i, t := range turns {
		msgs[i] = llamacpp.ChatMessage{Role: t.Role, Content: t.Text}
	}
	s, err := ce.ApplyChatTemplate(msgs, true)
	if err != nil {
		return "", fmt.Errorf("llamacorrect: %w", err)
	}
	return s, nil
}

// params copies field by field, so a field added to either side is a
// compile-time decision here rather than a silent conversion.
func params(p correct.Params) llamacpp.Params {
	return llamacpp.Params{
		MaxTokens: p.MaxTokens, Stop: p.Stop, Temperature: p.Temperature, TopK: p.TopK, TopP: p.TopP,
		MinP: p.MinP, RepeatPenalty: p.RepeatPenalty, FrequencyPenalty: p.FrequencyPenalty, Seed: p.Seed,
		Reference: p.Reference,
	}
}

func result(r llamacpp.Result) correct.Result {
	return correct.Result{
		Text: r.Text, PromptTokens: r.PromptTokens, ReusedTokens: r.ReusedTokens,
		EvaluatedTokens: r.EvaluatedTokens, CompletionTokens: r.CompletionTokens, FinishReason: r.FinishReason,
		Drafted: r.Drafted, Accepted: r.Accepted,
	}
}

// mapError wraps llamacpp's errors with the kind the corrector branches on;
// the original stays in the chain.
func mapError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, llamacpp.ErrQueueFull):
		return fmt.Errorf("%w: %w", correct.ErrBusy, err)
	case errors.Is(err, llamacpp.ErrPromptTooLong):
		return fmt.Errorf("%w: %w", correct.ErrTooLong, err)
	}
	return err
}

var (
	_ correct.Model        = (*Model)(nil)
	_ correct.TokenCounter = (*Model)(nil)
	_ correct.Identifier   = (*Model)(nil)
	_ correct.ChatRenderer = (*Model)(nil)
	_ chatEngine           = (*llamacpp.Engine)(nil)
	_ Engine               = (*llamacpp.Engine)(nil)
)
