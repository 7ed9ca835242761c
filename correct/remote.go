package correct

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/aligngate/aligngate/llamacpp"
)

// Remote is a Model served by an OpenAI-compatible /v1/completions endpoint
// (llama.cpp server, vLLM, SGLang, TGI), streamed so pieces arrive as they
// are generated.
type Remote struct {
	cfg      RemoteConfig
	endpoint string
	client   *http.Client
	inject   func(context.Context, http.Header)
}

// NewRemote returns a Remote for cfg using client (required; never
// http.DefaultClient). inject, when not nil, may add headers such as
// traceparent to each request.
func NewRemote(cfg RemoteConfig, client *http.Client, inject func(context.Context, http.Header)) (*Remote, error) {
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if client == nil {
		return nil, errors.New("correct: remote needs an http.Client")
	}
	base := strings.TrimRight(cfg.BaseURL, "/")
	if !strings.HasSuffix(base, "/v1") {
		base += "/v1"
	}
	return &Remote{cfg: cfg, endpoint: base + "/completions", client: client, inject: inject}, nil
}

// ModelID identifies the remote model for cache keys: model name and base URL.
func (m *Remote) ModelID() string { return "remote:" + m.cfg.Model + "@" + m.cfg.BaseURL }

// completionRequest is the body of a /v1/completions request. Non-standard
// sampling fields are sent only when set.
type completionRequest struct {
	Model            string   `json:"model"`
	Prompt           string   `json:"prompt"`
	MaxTokens        int      `json:"max_tokens"`
	Temperature      float32  `json:"temperature"`
	TopP             float32  `json:"top_p,omitempty"`
	TopK             int      `json:"top_k,omitempty"`
	MinP             float32  `json:"min_p,omitempty"`
	RepeatPenalty    float32  `json:"repeat_penalty,omitempty"`
	RepetitionPen    float32  `json:"repetition_penalty,omitempty"`
	FrequencyPenalty float32  `json:"frequency_penalty,omitempty"`
	Seed             *uint32  `json:"seed,omitempty"`
	Stop             []string `json:"stop,omitempty"`
	Stream           bool     `json:"stream"`
}

// completionChunk is one streamed /v1/completions event.
type completionChunk struct {
	Choices []struct {
		Text         string  `json:"text"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Usage *struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
	} `json:"usage"`
	Error json.RawMessage `json:"error"`
}

// Generate implements Model. A 429 or 503 answer wraps ErrBusy.
func (m *Remote) Generate(ctx context.Context, prompt string, p llamacpp.Params, onToken func(string) error) (llamacpp.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, m.cfg.Timeout)
	defer cancel()
	req, err := m.newRequest(ctx, prompt, p)
	if err != nil {
		return llamacpp.Result{}, err
	}
	resp, err := m.client.Do(req)
	if err != nil {
		return llamacpp.Result{}, fmt.Errorf("correct: remote: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return llamacpp.Result{}, statusError(resp)
	}
	return readStream(resp.Body, onToken)
}

// newRequest builds the streaming completion request.
func (m *Remote) newRequest(ctx context.Context, prompt string, p llamacpp.Params) (*http.Request, error) {
	body := completionRequest{
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
func readStream(body io.Reader, onToken func(string) error) (llamacpp.Result, error) {
	var res llamacpp.Result
	var text strings.Builder
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	for sc.Scan() {
		data, ok := sseData(sc.Text())
		if !ok {
			continue
		}
		if data == "[DONE]" {
			res.Text = text.String()
			return res, nil
		}
		ch, err := parseChunk(data)
		if err != nil {
			return res, err
		}
		if err := applyChunk(&res, &text, ch, onToken); err != nil {
			return res, err
		}
	}
	res.Text = text.String()
	if err := sc.Err(); err != nil {
		return res, fmt.Errorf("correct: remote: reading stream: %w", err)
	}
	if res.FinishReason == "" {
		return res, fmt.Errorf("%w: ended without finish reason", ErrBadStream)
	}
	return res, nil
}

// applyChunk adds one chunk to the result and forwards its text.
func applyChunk(res *llamacpp.Result, text *strings.Builder, ch completionChunk, onToken func(string) error) error {
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

// sseData returns the payload of an SSE "data:" line.
func sseData(line string) (string, bool) {
	rest, ok := strings.CutPrefix(line, "data:")
	if !ok {
		return "", false
	}
	return strings.TrimSpace(rest), true
}

// parseChunk decodes one SSE data payload.
func parseChunk(data string) (completionChunk, error) {
	var ch completionChunk
	if err := json.Unmarshal([]byte(data), &ch); err != nil {
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
