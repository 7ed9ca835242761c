package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aligngate/aligngate/config"
	"github.com/aligngate/aligngate/internal/dataset"
	"github.com/aligngate/aligngate/internal/testenv"
	"github.com/aligngate/aligngate/wire"
)

// sdkCase is one line printed by test/node/realmodel.test.mjs or
// test/python/realmodel.py.
type sdkCase struct {
	Case   string          `json:"case"`
	Text   string          `json:"text"`
	Report json.RawMessage `json:"report"`
	Finish string          `json:"finish"`
	Role   bool            `json:"role"`
	Usage  bool            `json:"usage"`
	Chunks int             `json:"chunks"`
	Error  string          `json:"error"`
}

// TestSDKsWithRealModel runs aligngate as serve builds it, correcting with
// the real demo model in-process, in Aligner and stream modes, and drives
// it with the official OpenAI Node and Python SDKs, whole and streamed: the
// SDKs read every chunk aligngate writes (role chunk, aligngate member,
// finish chunk, usage chunk) and the text they assemble is the corrected
// text a plain HTTP client gets.
func TestSDKsWithRealModel(t *testing.T) {
	model := testenv.RealModel(t)
	lib := testenv.LlamaLib(t)
	clients := sdkClients(t)
	q, answer := hhExample(t)
	up := httptest.NewServer(fakeChatUpstream(answer))
	defer up.Close()
	for _, mode := range []string{"aligner", "stream"} {
		t.Run(mode, func(t *testing.T) {
			cfg := config.Default()
			cfg.Upstreams = []config.Upstream{{Name: "fake", BaseURL: up.URL + "/v1"}}
			cfg.Policies.Default.Mode = mode
			cfg.Policies.Records.Sink = "off"
			cfg.LlamaCpp.ModelPath, cfg.LlamaCpp.LibDir = model, lib
			cfg.LlamaCpp.Parallel, cfg.LlamaCpp.Threads, cfg.LlamaCpp.ContextSize = 2, 1, 4096
			cfg.Correct.Budget.Aligner, cfg.Correct.Budget.Stream = 10*time.Minute, 10*time.Minute
			cfg.SetDefaults()
			a, err := build(t.Context(), cfg, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			defer a.close(context.Background())
			ps := httptest.NewServer(a.srv.Handler())
			defer ps.Close()
			want := map[string]string{
				"non-stream": plainWhole(t, ps.URL, q),
				"stream":     plainStream(t, ps.URL, q),
			}
			for _, w := range want {
				if strings.TrimSpace(w) == "" || w == answer || strings.Contains(w, "<|im_") {
					t.Fatalf("plain client got %q: want a correction differing from the upstream answer", w)
				}
			}
			for name, argv := range clients {
				for _, c := range runSDK(t, argv, ps.URL+"/v1", q) {
					checkSDKCase(t, name, c, want[c.Case])
				}
			}
		})
	}
}

// checkSDKCase checks one SDK case against the text a plain client got.
func checkSDKCase(t *testing.T, sdk string, c sdkCase, want string) {
	t.Helper()
	var rep wire.Report
	switch {
	case c.Error != "":
		t.Errorf("%s %s: the SDK failed: %s", sdk, c.Case, c.Error)
	case c.Text != want:
		t.Errorf("%s %s: SDK text %q, want the corrected %q", sdk, c.Case, c.Text, want)
	case !c.Role || c.Finish != "stop" || !c.Usage:
		t.Errorf("%s %s: role %v, finish %q, usage %v", sdk, c.Case, c.Role, c.Finish, c.Usage)
	case json.Unmarshal(c.Report, &rep) != nil || !rep.Corrected:
		t.Errorf("%s %s: aligngate report %s, want corrected", sdk, c.Case, c.Report)
	case c.Case == "stream" && c.Chunks < 3:
		t.Errorf("%s stream: %d chunks", sdk, c.Chunks)
	}
}

// sdkClients returns the command lines of the Node and Python SDK scripts.
func sdkClients(t *testing.T) map[string][]string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Missing(t, "node not found: install Node.js 20+")
	}
	if _, err := os.Stat("../../test/node/node_modules/openai/package.json"); err != nil {
		testenv.Missing(t, "the OpenAI Node SDK is not installed: run npm ci --prefix test/node")
	}
	py := os.Getenv("ALIGNGATE_PYTHON")
	if py == "" {
		py = "../../test/python/.venv/bin/python"
	}
	if err := exec.Command(py, "-c", "import openai").Run(); err != nil {
		testenv.Missing(t, "the OpenAI Python SDK is not installed (%v): see scripts/test.sh", err)
	}
	return map[string][]string{
		"node":   {node, "../../test/node/realmodel.test.mjs"},
		"python": {py, "../../test/python/realmodel.py"},
	}
}

// runSDK runs one SDK script and parses its lines.
func runSDK(t *testing.T, argv []string, baseURL, question string) []sdkCase {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "ALIGNGATE_BASE_URL="+baseURL, "ALIGNGATE_QUESTION="+question)
	out, err := cmd.Output()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("%s: %v", argv[1], err)
	}
	var cases []sdkCase
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var c sdkCase
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("%s printed %q: %v", argv[1], sc.Text(), err)
		}
		cases = append(cases, c)
	}
	if len(cases) != 2 {
		t.Fatalf("%s: %d cases, want 2 (%v)\n%s", argv[1], len(cases), err, out)
	}
	return cases
}

// hhExample is the first single-turn HH-RLHF question whose answer has
// two or more sentences.
func hhExample(t *testing.T) (question, answer string) {
	t.Helper()
	path, err := dataset.Path(dataset.HHRLHFFile)
	if err == nil {
		_, err = os.Stat(path)
	}
	if err != nil {
		testenv.Missing(t, "evaluation data not found: %v", err)
	}
	pairs, err := dataset.HHRLHF(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pairs {
		if p.Context == "" && strings.Count(p.Answer, ". ") >= 1 && len(p.Answer) < 400 {
			return p.Question, strings.TrimSpace(p.Answer)
		}
	}
	t.Fatal("no HH-RLHF example")
	return "", ""
}

// fakeChatUpstream answers every chat completion with answer, streamed word
// by word (usage chunk included when asked) or whole. It stands for the
// upstream LLM, which is outside aligngate.
func fakeChatUpstream(answer string) http.Handler {
	usage := json.RawMessage(`{"prompt_tokens":12,"completion_tokens":40,"total_tokens":52}`)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Stream        bool `json:"stream"`
			StreamOptions *struct {
				IncludeUsage bool `json:"include_usage"`
			} `json:"stream_options"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		head := `"id":"chatcmpl-up","object":"chat.completion.chunk","created":1,"model":"upstream-model"`
		if !req.Stream {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"id":"chatcmpl-up","object":"chat.completion","created":1,"model":"upstream-model",`+
				`"choices":[{"index":0,"message":{"role":"assistant","content":%q},"finish_reason":"stop"}],"usage":%s}`, answer, usage)
			return
		}
		sse := wire.StartSSE(w, http.StatusOK)
		_ = sse.Raw([]byte(`{` + head + `,"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}`))
		for _, word := range strings.SplitAfter(answer, " ") {
			b, _ := json.Marshal(word)
			_ = sse.Data([]byte(`{` + head + `,"choices":[{"index":0,"delta":{"content":` + string(b) + `},"finish_reason":null}]}`))
		}
		_ = sse.Data([]byte(`{` + head + `,"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`))
		if req.StreamOptions != nil && req.StreamOptions.IncludeUsage {
			_ = sse.Data([]byte(`{` + head + `,"choices":[],"usage":` + string(usage) + `}`))
		}
		_ = sse.Done()
	})
}

// chatBody is the request both the plain client and the SDKs send.
func chatBody(question string, stream bool) []byte {
	b, _ := json.Marshal(map[string]any{
		"model": "upstream-model", "stream": stream,
		"messages": []map[string]string{{"role": "user", "content": question}},
	})
	return b
}

func postChat(t *testing.T, base, question string, stream bool) *http.Response {
	t.Helper()
	res, err := http.Post(base+"/v1/chat/completions", "application/json", bytes.NewReader(chatBody(question, stream)))
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("status %d: %s", res.StatusCode, b)
	}
	return res
}

// plainWhole is the corrected content of a non-stream answer.
func plainWhole(t *testing.T, base, question string) string {
	t.Helper()
	res := postChat(t, base, question, false)
	defer res.Body.Close()
	var body struct {
		Choices []struct {
			Message struct {
				Content string `json:"content"`
			} `json:"message"`
		} `json:"choices"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil || len(body.Choices) != 1 {
		t.Fatalf("non-stream body: %v", err)
	}
	return body.Choices[0].Message.Content
}

// plainStream is the content of a streamed answer, assembled with the
// project's own SSE reader.
func plainStream(t *testing.T, base, question string) string {
	t.Helper()
	res := postChat(t, base, question, true)
	defer res.Body.Close()
	r := wire.NewSSEReader(res.Body)
	var b strings.Builder
	for {
		data, err := r.Next()
		if errors.Is(err, wire.ErrDone) {
			return b.String()
		}
		if err != nil {
			t.Fatalf("stream: %v", err)
		}
		var c wire.Chunk
		if err := json.Unmarshal(data, &c); err != nil {
			t.Fatalf("chunk %s: %v", data, err)
		}
		for _, ch := range c.Choices {
			if ch.Delta.Content != nil {
				b.WriteString(*ch.Delta.Content)
			}
		}
	}
}
