package passthrough

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// MockOptions shapes the mock upstream's answers.
type MockOptions struct {
	// Chunks is the number of content deltas a streamed answer carries; the
	// non-stream answer's content is the same deltas joined. Default 20.
	Chunks int
	// ChunkDelay is slept between two streamed chunks. Default 0: the mock
	// answers as fast as it can so that only the proxy's cost is measured.
	ChunkDelay time.Duration
}

// Mock is a fast OpenAI-shaped upstream: POST .../chat/completions answers a
// fixed chat completion, as JSON or, when the request has "stream":true, as
// an SSE stream of chat.completion.chunk events ending with [DONE]. Answers
// are rendered once at construction so serving costs little more than
// reading the request and writing bytes.
type Mock struct {
	opts   MockOptions
	json   []byte   // whole non-stream body
	events [][]byte // SSE events, each "data: ...\n\n", [DONE] last
	bufs   sync.Pool
}

// Mock answer constants, exported so tests can check what came through.
const (
	// MockID is the id of every completion the mock returns.
	MockID = "chatcmpl-passthrough-mock"
	// MockModel is the model name the mock reports.
	MockModel = "mock-model"
)

// NewMock renders the mock's answers.
func NewMock(opts MockOptions) *Mock {
	if opts.Chunks <= 0 {
		opts.Chunks = 20
	}
	m := &Mock{opts: opts}
	m.bufs.New = func() any { return new(bytes.Buffer) }
	deltas := MockDeltas(opts.Chunks)
	m.json = mustJSON(completion{
		ID: MockID, Object: "chat.completion", Created: 1700000000, Model: MockModel,
		Choices: []choice{{Index: 0, Message: &message{Role: "assistant", Content: strings.Join(deltas, "")}, FinishReason: strPtr("stop")}},
		Usage:   &usage{PromptTokens: 12, CompletionTokens: opts.Chunks, TotalTokens: 12 + opts.Chunks},
	})
	for i, d := range deltas {
		delta := &message{Content: d}
		if i == 0 {
			delta.Role = "assistant"
		}
		m.events = append(m.events, sseEvent(mustJSON(chunk(choice{Delta: delta}))))
	}
	m.events = append(m.events,
		sseEvent(mustJSON(chunk(choice{Delta: &message{}, FinishReason: strPtr("stop")}))),
		[]byte("data: [DONE]\n\n"))
	return m
}

// MockDeltas returns the n content deltas the mock streams, in order.
func MockDeltas(n int) []string {
	deltas := make([]string, n)
	for i := range deltas {
		deltas[i] = "tok" + strconv.Itoa(i) + " "
	}
	return deltas
}

// ServeHTTP implements http.Handler.
func (m *Mock) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/chat/completions") {
		http.Error(w, `{"error":{"message":"not found","type":"invalid_request_error"}}`, http.StatusNotFound)
		return
	}
	buf := m.bufs.Get().(*bytes.Buffer)
	defer m.bufs.Put(buf)
	buf.Reset()
	if _, err := buf.ReadFrom(r.Body); err != nil {
		http.Error(w, "reading body: "+err.Error(), http.StatusBadRequest)
		return
	}
	if isStream(buf.Bytes()) {
		m.serveStream(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(m.json)))
	_, _ = w.Write(m.json)
}

func (m *Mock) serveStream(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	rc := http.NewResponseController(w)
	for i, ev := range m.events {
		if i > 0 && m.opts.ChunkDelay > 0 {
			select {
			case <-time.After(m.opts.ChunkDelay):
			case <-r.Context().Done():
				return
			}
		}
		if _, err := w.Write(ev); err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}

// isStream reports whether a request body asks for streaming. The mock
// accepts the two spellings encoders produce rather than decoding JSON,
// which would dominate its cost.
func isStream(body []byte) bool {
	return bytes.Contains(body, []byte(`"stream":true`)) || bytes.Contains(body, []byte(`"stream": true`))
}

type completion struct {
	ID      string   `json:"id"`
	Object  string   `json:"object"`
	Created int64    `json:"created"`
	Model   string   `json:"model"`
	Choices []choice `json:"choices"`
	Usage   *usage   `json:"usage,omitempty"`
}

type choice struct {
	Index        int      `json:"index"`
	Message      *message `json:"message,omitempty"`
	Delta        *message `json:"delta,omitempty"`
	FinishReason *string  `json:"finish_reason"`
}

type message struct {
	Role    string `json:"role,omitempty"`
	Content string `json:"content,omitempty"`
}

type usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

func chunk(c choice) completion {
	return completion{ID: MockID, Object: "chat.completion.chunk", Created: 1700000000, Model: MockModel, Choices: []choice{c}}
}

func sseEvent(data []byte) []byte { return fmt.Appendf(nil, "data: %s\n\n", data) }

func strPtr(s string) *string { return &s }

// mustJSON marshals values built from fixed types that cannot fail.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("passthrough: marshal %T: %v", v, err))
	}
	return b
}

var _ http.Handler = (*Mock)(nil)
