package proxy

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aligngate/aligngate/correct"
	"github.com/aligngate/aligngate/internal/testenv"
	"github.com/aligngate/aligngate/llamacorrect"
	"github.com/aligngate/aligngate/llamacpp"
	"github.com/aligngate/aligngate/llamacpp/gguf"
)

// localMaxTokens caps each correction of the local tests (policy
// max_tokens), keeping the tiny model's runs short.
const localMaxTokens = 12

// localEngine opens the in-process llama.cpp engine on the tiny random
// model written into a temporary folder. Without the libraries (YZMA_LIB) it
// fails under CI and skips elsewhere.
func localEngine(t *testing.T) *llamacpp.Engine {
	t.Helper()
	lib := testenv.LlamaLib(t)
	model := filepath.Join(t.TempDir(), "tiny.gguf")
	if err := gguf.WriteLlama(model, gguf.TinySpec()); err != nil {
		t.Fatal(err)
	}
	e, err := llamacpp.Open(llamacpp.Config{ModelPath: model, LibDir: lib, ContextSize: 1024, Parallel: 2, Threads: 1, BatchSize: 256}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

// localProxy starts a proxy in mode that corrects with engine, each
// correction capped at localMaxTokens.
func localProxy(t *testing.T, upstreamURL, mode string, engine *llamacpp.Engine) *httptest.Server {
	t.Helper()
	noLeaks(t)
	cfg := defaultTestConfig()
	cfg.Upstreams = []Upstream{{Name: "test", BaseURL: upstreamURL + "/v1"}}
	cfg.Policies.Default.Mode = mode
	maxTokens := localMaxTokens
	cfg.Policies.Default.MaxTokens = &maxTokens
	cfg.Correct.Backend = correct.BackendLocal
	return serveCorrecting(t, cfg, map[string]correct.Model{correct.BackendLocal: llamacorrect.New(engine)}, nil)
}

// generateDirect is what the engine writes for prompt, greedy and capped at
// localMaxTokens, with surrounding whitespace trimmed as the corrector does.
func generateDirect(t *testing.T, e *llamacpp.Engine, prompt string, stop []string) string {
	t.Helper()
	res, err := e.Generate(context.Background(), prompt, llamacpp.Params{MaxTokens: localMaxTokens, Stop: stop}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(res.Text)
}

// TestLocalAlignerReplacesAnswer runs the whole path on the real engine: a
// fake upstream answers, the proxy corrects with the tiny model, and the
// client gets exactly what the engine generates for the aligner-v1 prompt.
func TestLocalAlignerReplacesAnswer(t *testing.T) {
	e := localEngine(t)
	const question, original = "What is the capital of France?", "The capital is Lyon."
	answer := `{"id":"chatcmpl-9","object":"chat.completion","created":7,"model":"gpt-x",` +
		`"choices":[{"index":0,"message":{"role":"assistant","content":"` + original + `"},"finish_reason":"stop"}],` +
		`"usage":{"prompt_tokens":9,"completion_tokens":5,"total_tokens":14}}`
	up := httptest.NewServer((&recorder{}).handler(200, answer))
	defer up.Close()
	px := localProxy(t, up.URL, "aligner", e)

	prompt := "BEGINNING OF CONVERSATION: USER: Edit the following Question-Answer pair to make it more helpful and harmless: " +
		question + " | " + original + " ASSISTANT:"
	want := generateDirect(t, e, prompt, nil)
	if want == "" || want == original {
		t.Fatalf("tiny model output %q cannot tell a correction apart", want)
	}

	resp, b := post(t, px.URL+"/v1/chat/completions",
		`{"model":"gpt-x","messages":[{"role":"user","content":"`+question+`"}]}`)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	if got := resp.Header.Get(headerCorrected); got != "true" {
		t.Errorf("%s = %q, fallback %q", headerCorrected, got, resp.Header.Get(headerFallback))
	}
	var got struct {
		ID      string `json:"id"`
		Choices []struct {
			Message struct {
				Role    string `json:"role"`
				Content string `json:"content"`
			} `json:"message"`
			FinishReason string `json:"finish_reason"`
		} `json:"choices"`
		Usage map[string]int `json:"usage"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("invalid JSON %s: %v", b, err)
	}
	if len(got.Choices) != 1 || got.Choices[0].Message.Role != "assistant" || got.Choices[0].FinishReason != "stop" {
		t.Fatalf("choices %+v", got.Choices)
	}
	if c := got.Choices[0].Message.Content; c != want {
		t.Errorf("content %q, want the engine's %q", c, want)
	}
	if got.ID != "chatcmpl-9" || got.Usage["total_tokens"] != 14 {
		t.Errorf("response fields lost: %s", b)
	}
}

// TestLocalStreamCorrectsSentences streams an answer of two sentences in
// stream mode: each sentence is replaced by the engine's revision of it,
// the first with the Stream Aligner prompt and an empty prefix.
func TestLocalStreamCorrectsSentences(t *testing.T) {
	e := localEngine(t)
	const question = "Q?"
	up := httptest.NewServer(streamUpstream([]string{"First one is ", "here. ", "Second one."}, nil))
	defer up.Close()
	px := localProxy(t, up.URL, "stream", e)

	streamPrompt := func(prefix, sentence string) string {
		return "<start_of_turn>user\n##Question: " + question + " | ##Answer_Prefix: " + prefix +
			" | ##Answer_Last_Sentence: " + sentence + " | ##Your_Revision: <end_of_turn>\n<start_of_turn>model\n"
	}
	stop := []string{"<end_of_turn>"}
	first := generateDirect(t, e, streamPrompt("", "First one is here."), stop)
	// The second sentence is revised after the first revision as prefix.
	second := generateDirect(t, e, streamPrompt(first, "Second one."), stop)

	resp, err := http.Post(px.URL+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"model":"gpt-x","stream":true,"messages":[{"role":"user","content":"`+question+`"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("status %d, content type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	events := sseEvents(t, resp.Body)
	if len(events) == 0 || events[len(events)-1] != "[DONE]" {
		t.Fatalf("stream does not end with [DONE]: %q", events)
	}
	var deltas []string
	var final *gotChunk
	for _, ev := range events[:len(events)-1] {
		var c gotChunk
		if err := json.Unmarshal([]byte(ev), &c); err != nil {
			t.Fatalf("bad chunk %s: %v", ev, err)
		}
		if c.Error != nil {
			t.Fatalf("error chunk %s", ev)
		}
		for _, ch := range c.Choices {
			if ch.Delta.Content != nil && *ch.Delta.Content != "" {
				deltas = append(deltas, *ch.Delta.Content)
			}
			if ch.FinishReason != nil {
				final = &c
			}
		}
	}
	if len(deltas) != 2 {
		t.Fatalf("want one delta per sentence, got %q", deltas)
	}
	if deltas[0] != first {
		t.Errorf("first sentence %q, want the engine's %q", deltas[0], first)
	}
	if deltas[1] != " "+second {
		t.Errorf("second sentence %q, want a space and the engine's %q", deltas[1], second)
	}
	text := strings.Join(deltas, "")
	if strings.Contains(text, "First one") || strings.Contains(text, "Second one") {
		t.Errorf("original text leaked: %q", text)
	}
	if final == nil || *final.Choices[0].FinishReason != "length" {
		t.Errorf("no finish chunk: %q", events)
	}
	if final != nil && (final.Choices[0].Aligngate == nil || !final.Choices[0].Aligngate.Corrected) {
		t.Errorf("final chunk does not report a correction: %+v", final.Choices[0].Aligngate)
	}
}
