package proxy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	openai "github.com/sashabaranov/go-openai"

	"github.com/aligngate/aligngate/proxy"
)

// clientFixture is what the fake upstream answers; the Node SDK script
// receives it as JSON in ALIGNGATE_FIXTURE, so field names are shared.
type clientFixture struct {
	Model        string      `json:"model"`
	ErrorModel   string      `json:"error_model"`
	ID           string      `json:"id"`
	Content      string      `json:"content"`
	Usage        clientUsage `json:"usage"`
	ErrorMessage string      `json:"error_message"`
}

type clientUsage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// newClientFixture returns the answers used by the real-client tests. The
// content mixes multi-byte runes, quotes and a newline so that a proxy that
// re-encodes or splits bytes badly changes it.
func newClientFixture() clientFixture {
	return clientFixture{
		Model:        "fake-model",
		ErrorModel:   "fake-bad-request",
		ID:           "chatcmpl-aligngate-client-test",
		Content:      "Hello from the fake upstream: café, 世界 🌍, \"quoted\" <tag> & a\nsecond line.",
		Usage:        clientUsage{PromptTokens: 17, CompletionTokens: 23, TotalTokens: 40},
		ErrorMessage: "The model `fake-bad-request` does not exist or you do not have access to it.",
	}
}

// deltas splits the content every few runes, never inside one.
func (fx clientFixture) deltas() []string {
	var out []string
	var b strings.Builder
	for i, r := range fx.Content {
		b.WriteRune(r)
		if utf8.RuneCountInString(b.String()) == 4 || i+utf8.RuneLen(r) == len(fx.Content) {
			out = append(out, b.String())
			b.Reset()
		}
	}
	return out
}

// clientRequest is one request as the fake upstream received it.
type clientRequest struct {
	Path   string
	Header http.Header
	Body   []byte
}

// clientUpstream is an OpenAI-shaped fake upstream for the real-client
// tests: chat completions as JSON or SSE, an OpenAI error body for the error
// model, and a record of every request's raw bytes.
type clientUpstream struct {
	fx   clientFixture
	mu   sync.Mutex
	reqs []clientRequest
	// url is where the upstream listens, for clients that release the gate.
	url string
	// gate holds a streamed answer whose request has "user":"gated" after
	// its first content delta, until the client, having seen that delta,
	// releases it (release, or POST /release-gate): a proxy that buffers
	// the stream never lets the client see it.
	gate     chan struct{}
	gateOnce sync.Once
	// gateTimedOut records that a gated stream went on without the gate.
	gateTimedOut atomic.Bool
}

// release lets gated streams go on.
func (u *clientUpstream) release() { u.gateOnce.Do(func() { close(u.gate) }) }

// gateWait bounds how long a gated stream waits for the client.
const gateWait = 5 * time.Second

func (u *clientUpstream) requests() []clientRequest {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]clientRequest(nil), u.reqs...)
}

func (u *clientUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/release-gate" { // called by the client directly, not recorded
		u.release()
		w.WriteHeader(http.StatusNoContent)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	u.mu.Lock()
	u.reqs = append(u.reqs, clientRequest{Path: r.URL.Path, Header: r.Header.Clone(), Body: body})
	u.mu.Unlock()
	var req struct {
		Model         string `json:"model"`
		User          string `json:"user"`
		Stream        bool   `json:"stream"`
		StreamOptions *struct {
			IncludeUsage bool `json:"include_usage"`
		} `json:"stream_options"`
	}
	switch {
	case r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions":
		u.writeError(w, http.StatusNotFound, "unknown path "+r.URL.Path)
	case json.Unmarshal(body, &req) != nil:
		u.writeError(w, http.StatusBadRequest, "upstream could not parse the body")
	case req.Model == u.fx.ErrorModel:
		u.writeError(w, http.StatusBadRequest, u.fx.ErrorMessage)
	case req.Stream:
		u.writeStream(w, req.StreamOptions != nil && req.StreamOptions.IncludeUsage, req.User == "gated")
	default:
		u.writeJSON(w, http.StatusOK, map[string]any{
			"id": u.fx.ID, "object": "chat.completion", "created": 1700000000, "model": u.fx.Model,
			"choices": []any{map[string]any{
				"index": 0, "message": map[string]any{"role": "assistant", "content": u.fx.Content},
				"finish_reason": "stop", "logprobs": nil,
			}},
			"usage": u.fx.Usage,
		})
	}
}

func (u *clientUpstream) writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Request-Id", "req_fake_upstream")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (u *clientUpstream) writeError(w http.ResponseWriter, status int, msg string) {
	u.writeJSON(w, status, map[string]any{"error": map[string]any{
		"message": msg, "type": "invalid_request_error", "param": "model", "code": "model_not_found",
	}})
}

func (u *clientUpstream) writeStream(w http.ResponseWriter, includeUsage, gated bool) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	chunk := func(delta map[string]any, finish any) map[string]any {
		return map[string]any{
			"id": u.fx.ID, "object": "chat.completion.chunk", "created": 1700000000, "model": u.fx.Model,
			"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}},
		}
	}
	events := []any{chunk(map[string]any{"role": "assistant", "content": ""}, nil)}
	for _, d := range u.fx.deltas() {
		events = append(events, chunk(map[string]any{"content": d}, nil))
	}
	events = append(events, chunk(map[string]any{}, "stop"))
	if includeUsage {
		events = append(events, map[string]any{
			"id": u.fx.ID, "object": "chat.completion.chunk", "created": 1700000000, "model": u.fx.Model,
			"choices": []any{}, "usage": u.fx.Usage,
		})
	}
	rc := http.NewResponseController(w)
	for i, ev := range events {
		if gated && i == 2 { // after the role chunk and the first delta
			select {
			case <-u.gate:
			case <-time.After(gateWait):
				u.gateTimedOut.Store(true)
			}
		}
		b, _ := json.Marshal(ev)
		fmt.Fprintf(w, "data: %s\n\n", b)
		_ = rc.Flush()
	}
	fmt.Fprint(w, "data: [DONE]\n\n")
}

// startClientProxy starts the fake upstream and an aligngate proxy in front
// of it, built with the package's exported constructor and the embedded
// defaults (correction off).
func startClientProxy(t *testing.T) (*clientUpstream, *httptest.Server) {
	t.Helper()
	up := &clientUpstream{fx: newClientFixture(), gate: make(chan struct{})}
	upSrv := httptest.NewServer(up)
	t.Cleanup(upSrv.Close)
	up.url = upSrv.URL
	cfg := proxy.DefaultConfig()
	cfg.Upstreams = []proxy.Upstream{{Name: "fake", BaseURL: upSrv.URL + "/v1"}}
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("config: %v", err)
	}
	srv, err := proxy.New(cfg, proxy.Options{})
	if err != nil {
		t.Fatalf("proxy.New: %v", err)
	}
	ps := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { _ = srv.Close() })
	t.Cleanup(ps.Close)
	return up, ps
}

// bodyRecorder keeps a copy of every request body the client sends.
type bodyRecorder struct {
	next   http.RoundTripper
	mu     sync.Mutex
	bodies [][]byte
}

func (b *bodyRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		body, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return nil, err
		}
		b.mu.Lock()
		b.bodies = append(b.bodies, body)
		b.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	return b.next.RoundTrip(r)
}

func newGoOpenAIClient(ps *httptest.Server) (*openai.Client, *bodyRecorder) {
	rec := &bodyRecorder{next: ps.Client().Transport}
	cfg := openai.DefaultConfig("sk-aligngate-go-test")
	cfg.BaseURL = ps.URL + "/v1"
	cfg.HTTPClient = &http.Client{Transport: rec}
	return openai.NewClientWithConfig(cfg), rec
}

var clientMessages = []openai.ChatCompletionMessage{
	{Role: openai.ChatMessageRoleSystem, Content: "You are terse."},
	{Role: openai.ChatMessageRoleUser, Content: "Say hello."},
}

func TestGoOpenAINonStream(t *testing.T) {
	up, ps := startClientProxy(t)
	client, _ := newGoOpenAIClient(ps)
	fx := up.fx
	res, err := client.CreateChatCompletion(context.Background(), openai.ChatCompletionRequest{
		Model: fx.Model, Messages: clientMessages,
	})
	if err != nil {
		t.Fatalf("CreateChatCompletion: %v", err)
	}
	if res.ID != fx.ID || len(res.Choices) != 1 || res.Choices[0].Message.Content != fx.Content {
		t.Fatalf("got id %q choices %+v, want id %q content %q", res.ID, res.Choices, fx.ID, fx.Content)
	}
	if res.Choices[0].FinishReason != openai.FinishReasonStop {
		t.Errorf("finish reason %q", res.Choices[0].FinishReason)
	}
	want := openai.Usage{PromptTokens: fx.Usage.PromptTokens, CompletionTokens: fx.Usage.CompletionTokens, TotalTokens: fx.Usage.TotalTokens}
	if res.Usage != want {
		t.Errorf("usage %+v, want %+v", res.Usage, want)
	}
	if got := res.Header().Get("X-Request-Id"); got != "req_fake_upstream" {
		t.Errorf("upstream X-Request-Id not relayed: %q", got)
	}
	reqs := up.requests()
	if len(reqs) != 1 || reqs[0].Header.Get("Authorization") != "Bearer sk-aligngate-go-test" {
		t.Fatalf("upstream saw %d requests, authorization %q", len(reqs), reqs[0].Header.Get("Authorization"))
	}
}

func TestGoOpenAIStream(t *testing.T) {
	up, ps := startClientProxy(t)
	client, _ := newGoOpenAIClient(ps)
	fx := up.fx
	stream, err := client.CreateChatCompletionStream(context.Background(), openai.ChatCompletionRequest{
		Model: fx.Model, Messages: clientMessages, User: "gated",
		StreamOptions: &openai.StreamOptions{IncludeUsage: true},
	})
	if err != nil {
		t.Fatalf("CreateChatCompletionStream: %v", err)
	}
	defer stream.Close()
	var text strings.Builder
	var finish openai.FinishReason
	var usage *openai.Usage
	chunks := 0
	for {
		chunk, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("Recv after %d chunks: %v", chunks, err)
		}
		chunks++
		if chunk.ID != fx.ID {
			t.Fatalf("chunk %d id %q, want %q", chunks, chunk.ID, fx.ID)
		}
		if chunk.Usage != nil {
			usage = chunk.Usage
		}
		for _, c := range chunk.Choices {
			if text.Len() == 0 && c.Delta.Content != "" {
				up.release() // the first delta arrived while upstream holds the rest
			}
			text.WriteString(c.Delta.Content)
			if c.FinishReason != "" {
				finish = c.FinishReason
			}
		}
	}
	if up.gateTimedOut.Load() {
		t.Errorf("the first delta reached the client only after the upstream finished: the stream was buffered")
	}
	// role chunk + content deltas + finish chunk + usage chunk
	if want := len(fx.deltas()) + 3; chunks != want {
		t.Errorf("got %d chunks, want %d", chunks, want)
	}
	if text.String() != fx.Content {
		t.Errorf("deltas concatenate to %q, want %q", text.String(), fx.Content)
	}
	if finish != openai.FinishReasonStop {
		t.Errorf("finish reason %q", finish)
	}
	if usage == nil || usage.TotalTokens != fx.Usage.TotalTokens || usage.PromptTokens != fx.Usage.PromptTokens {
		t.Errorf("usage %+v, want %+v", usage, fx.Usage)
	}
}

func TestGoOpenAIErrors(t *testing.T) {
	up, ps := startClientProxy(t)
	client, _ := newGoOpenAIClient(ps)
	fx := up.fx
	req := openai.ChatCompletionRequest{Model: fx.ErrorModel, Messages: clientMessages}
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"non-stream", func() error {
			_, err := client.CreateChatCompletion(context.Background(), req)
			return err
		}},
		{"stream", func() error {
			s, err := client.CreateChatCompletionStream(context.Background(), req)
			if err == nil {
				defer s.Close()
				_, err = s.Recv()
			}
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			var apiErr *openai.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %v (%T), want *openai.APIError", err, err)
			}
			if apiErr.HTTPStatusCode != http.StatusBadRequest || apiErr.Message != fx.ErrorMessage ||
				apiErr.Type != "invalid_request_error" || apiErr.Code != "model_not_found" {
				t.Fatalf("APIError = %+v", apiErr)
			}
			if apiErr.Param == nil || *apiErr.Param != "model" {
				t.Fatalf("APIError.Param = %v, want model", apiErr.Param)
			}
		})
	}
}

// TestGoOpenAIUnknownFieldsSurvive sends fields aligngate does not model
// (vLLM's chat_template_kwargs and guided_choice, logit_bias, metadata,
// store) and checks the upstream received the client's bytes unchanged.
func TestGoOpenAIUnknownFieldsSurvive(t *testing.T) {
	up, ps := startClientProxy(t)
	client, rec := newGoOpenAIClient(ps)
	fx := up.fx
	_, err := client.CreateChatCompletion(context.Background(), openai.ChatCompletionRequest{
		Model:                           fx.Model,
		Messages:                        clientMessages,
		ChatTemplateKwargs:              map[string]any{"enable_thinking": false, "nested": map[string]any{"k": []int{1, 2}}},
		ChatCompletionRequestExtensions: openai.ChatCompletionRequestExtensions{GuidedChoice: []string{"yes", "no"}},
		LogitBias:                       map[string]int{"50256": -100},
		Metadata:                        map[string]string{"trace": "ünïcode ✓"},
		Store:                           true,
		Seed:                            new(int),
	})
	if err != nil {
		t.Fatalf("CreateChatCompletion: %v", err)
	}
	reqs := up.requests()
	if len(reqs) != 1 || len(rec.bodies) != 1 {
		t.Fatalf("upstream saw %d requests, client sent %d", len(reqs), len(rec.bodies))
	}
	sent, got := rec.bodies[0], reqs[0].Body
	for _, field := range []string{`"chat_template_kwargs":`, `"guided_choice":`, `"logit_bias":`, `"metadata":`, `"store":true`, `"seed":0`} {
		if !bytes.Contains(sent, []byte(field)) {
			t.Fatalf("test is broken: client did not send %s in %s", field, sent)
		}
	}
	if !bytes.Equal(got, sent) {
		t.Fatalf("upstream body differs from the client's:\n sent %s\n  got %s", sent, got)
	}
}
