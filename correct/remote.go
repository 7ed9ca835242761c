package correct

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/aligngate/aligngate/wire"
)

// Remote is a Model served by an OpenAI-compatible /v1/completions endpoint
// (llama.cpp server, vLLM, SGLang, TGI), streamed so pieces arrive as they
// are generated.
type Remote struct {
	cfg      RemoteConfig
	endpoint string
	client   *http.Client
	retry    *http.Client // see post
	retries  atomic.Int64
	inject   func(context.Context, http.Header)
}

// NewRemote returns a Remote for cfg using client (required; never
// http.DefaultClient; its transport should be NewRemoteTransport's).
// inject, when not nil, may add headers such as traceparent to each
// request.
func NewRemote(cfg RemoteConfig, client *http.Client, inject func(context.Context, http.Header)) (*Remote, error) {
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Model == "" {
		return nil, errors.New("correct: remote needs a model name (see DiscoverModel)")
	}
	if client == nil {
		return nil, errors.New("correct: remote needs an http.Client")
	}
	return &Remote{cfg: cfg, endpoint: v1Base(cfg.BaseURL) + "/completions", client: client, retry: retryClient(client), inject: inject}, nil
}

// ModelID identifies the remote model for cache keys: model name and base URL.
func (m *Remote) ModelID() string { return "remote:" + m.cfg.Model + "@" + m.cfg.BaseURL }

// Generate implements Model. A 429 or 503 answer wraps ErrBusy.
func (m *Remote) Generate(ctx context.Context, prompt string, p Params, onToken func(string) error) (Result, error) {
	ctx, cancel := context.WithTimeout(ctx, m.cfg.Timeout)
	defer cancel()
	resp, err := m.post(ctx, prompt, p)
	if err != nil {
		return Result{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Result{}, statusError(resp)
	}
	return readStream(resp.Body, onToken)
}

// newRequest builds the streaming completion request.
func (m *Remote) newRequest(ctx context.Context, prompt string, p Params) (*http.Request, error) {
	body := wire.TextCompletionRequest{
		Model: m.cfg.Model, Prompt: prompt, MaxTokens: p.MaxTokens, Temperature: p.Temperature,
		TopP: p.TopP, TopK: p.TopK, MinP: p.MinP, RepeatPenalty: p.RepeatPenalty, RepetitionPen: p.RepeatPenalty,
		FrequencyPenalty: p.FrequencyPenalty, Stop: p.Stop, Stream: true,
	}
	if p.Temperature > 0 && p.Seed != 0 {
		body.Seed = &p.Seed
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("correct: remote request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.endpoint, bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("correct: remote request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	if m.cfg.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+m.cfg.APIKey)
	}
	if m.inject != nil {
		m.inject(ctx, req.Header)
	}
	return req, nil
}

// statusError describes a non-200 answer; 429 and 503 wrap ErrBusy, a 400
// mentioning the context wraps ErrTooLong.
func statusError(resp *http.Response) error {
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	err := fmt.Errorf("correct: remote status %d: %s", resp.StatusCode, bytes.TrimSpace(msg))
	switch {
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable:
		return fmt.Errorf("%w: %w", ErrBusy, err)
	case resp.StatusCode == http.StatusBadRequest && bytes.Contains(bytes.ToLower(msg), []byte("context")):
		return fmt.Errorf("%w: %w", ErrTooLong, err)
	}
	return err
}

// ErrBadStream reports a malformed or truncated SSE stream.
var ErrBadStream = errors.New("correct: remote: bad event stream")

// readStream reads SSE events until [DONE] or EOF after a finish reason.
func readStream(body io.Reader, onToken func(string) error) (Result, error) {
	var res Result
	var text strings.Builder
	r := wire.NewSSEReader(body)
	for {
		data, err := r.Next()
		switch {
		case errors.Is(err, wire.ErrDone):
			res.Text = text.String()
			return res, nil
		case errors.Is(err, io.EOF):
			res.Text = text.String()
			if res.FinishReason == "" {
				return res, fmt.Errorf("%w: ended without finish reason", ErrBadStream)
			}
			return res, nil
		case err != nil:
			res.Text = text.String()
			return res, fmt.Errorf("correct: remote: reading stream: %w", err)
		}
		ch, err := parseChunk(data)
		if err != nil {
			return res, err
		}
		if err := applyChunk(&res, &text, ch, onToken); err != nil {
			return res, err
		}
	}
}

// applyChunk adds one chunk to the result and forwards its text.
func applyChunk(res *Result, text *strings.Builder, ch wire.TextCompletionChunk, onToken func(string) error) error {
	if ch.Usage != nil {
		res.PromptTokens = ch.Usage.PromptTokens
		res.EvaluatedTokens = ch.Usage.PromptTokens
		res.CompletionTokens = ch.Usage.CompletionTokens
	}
	for _, c := range ch.Choices {
		if c.FinishReason != nil && *c.FinishReason != "" {
			res.FinishReason = *c.FinishReason
		}
		if c.Text == "" {
			continue
		}
		text.WriteString(c.Text)
		if ch.Usage == nil {
			res.CompletionTokens++
		}
		if onToken != nil {
			if err := onToken(c.Text); err != nil {
				return err
			}
		}
	}
	return nil
}

// parseChunk decodes one SSE data payload.
func parseChunk(data []byte) (wire.TextCompletionChunk, error) {
	var ch wire.TextCompletionChunk
	if err := json.Unmarshal(data, &ch); err != nil {
		return ch, fmt.Errorf("%w: %w", ErrBadStream, err)
	}
	if len(ch.Error) > 0 && string(ch.Error) != "null" {
		return ch, fmt.Errorf("correct: remote stream error: %s", ch.Error)
	}
	if ch.Choices == nil && ch.Usage == nil {
		return ch, fmt.Errorf("%w: event without choices", ErrBadStream)
	}
	return ch, nil
}

var (
	_ Model      = (*Remote)(nil)
	_ Identifier = (*Remote)(nil)
)
