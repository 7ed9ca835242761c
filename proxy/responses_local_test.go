package proxy

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aligngate/aligngate/correct"
	"github.com/aligngate/aligngate/internal/testenv"
	"github.com/aligngate/aligngate/llamacorrect"
	"github.com/aligngate/aligngate/llamacpp"
)

// TestResponsesLocalRealModel corrects a Responses answer end to end with
// the real demo model in the in-process engine (instruct-edit template):
// whole and streamed, the text the client gets is what the same engine
// writes for the same question and answer on the chat completions route.
func TestResponsesLocalRealModel(t *testing.T) {
	lib := testenv.LlamaLib(t)
	e, err := llamacpp.Open(llamacpp.Config{ModelPath: testenv.RealModel(t), LibDir: lib, ContextSize: 2048, Parallel: 1, Threads: 1, BatchSize: 512}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	const question, original = "What is the capital of France?", "The capital of France is Lyon, I think."
	u := &respUpstream{text: original}
	chatUp := httptest.NewServer((&recorder{}).handler(200, `{"id":"c","object":"chat.completion","created":1,"model":"gpt-x",`+
		`"choices":[{"index":0,"message":{"role":"assistant","content":"`+original+`"},"finish_reason":"stop"}]}`))
	defer chatUp.Close()
	serve := func(upstreamURL string) *httptest.Server {
		cfg := defaultTestConfig()
		cfg.Upstreams = []Upstream{{Name: "test", BaseURL: upstreamURL + "/v1"}}
		cfg.Policies.Default.Mode = "aligner"
		maxTokens := 24
		cfg.Policies.Default.MaxTokens = &maxTokens
		cfg.Correct.Backend = correct.BackendLocal
		cfg.Correct.Template = correct.TemplateInstructEdit
		return serveCorrecting(t, cfg, map[string]correct.Model{correct.BackendLocal: llamacorrect.New(e)}, nil)
	}

	_, cb := post(t, serve(chatUp.URL).URL+"/v1/chat/completions", `{"model":"gpt-x","messages":[{"role":"user","content":"`+question+`"}]}`)
	var chat struct {
		Choices []struct {
			Message struct {
				Content string `json:"content"`
			} `json:"message"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(cb, &chat); err != nil || len(chat.Choices) != 1 {
		t.Fatalf("chat answer %s: %v", cb, err)
	}
	want := chat.Choices[0].Message.Content
	if want == "" || want == original || strings.Contains(want, "<|im_") {
		t.Fatalf("the engine's chat correction %q cannot tell a correction apart", want)
	}
	t.Logf("the engine corrects %q to %q", original, want)

	px := serve(u.server(t).URL)
	resp, b := post(t, px.URL+"/v1/responses", `{"model":"gpt-x","input":"`+question+`"}`)
	if resp.Header.Get(headerCorrected) != "true" {
		t.Errorf("%s = %q, fallback %q", headerCorrected, resp.Header.Get(headerCorrected), resp.Header.Get(headerFallback))
	}
	var got gotResponse
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("invalid JSON %s: %v", b, err)
	}
	if text, _ := got.messageText(t); text != want {
		t.Errorf("responses text %q, want the engine's %q", text, want)
	}
	_, events := postStream(t, px.URL+"/v1/responses", `{"model":"gpt-x","input":"`+question+`","stream":true}`)
	checkRespStream(t, u, events, want)
}
