package proxy

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aligngate/aligngate/correct"
	"github.com/aligngate/aligngate/policies"
	"github.com/aligngate/aligngate/wire"
)

// backend is a fake remote correction server (/v1/completions, streamed):
// the correction model is outside aligngate, so a test double stands in.
type backend struct {
	calls   atomic.Int32
	respond func(prompt string) string // the correction for a prompt
	status  int                        // non-zero: answer with this status
	delay   time.Duration              // wait before answering (or until cancelled)
	gone    chan struct{}              // closed when a request's context ends early
	prompts chan string
}

func (b *backend) server(t *testing.T) *httptest.Server {
	b.gone = make(chan struct{}, 16)
	b.prompts = make(chan string, 64)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.calls.Add(1)
		var req struct {
			Prompt string `json:"prompt"`
		}
		json.NewDecoder(r.Body).Decode(&req)
		b.prompts <- req.Prompt
		if b.delay > 0 {
			select {
			case <-time.After(b.delay):
			case <-r.Context().Done():
				b.gone <- struct{}{}
				return
			}
		}
		if b.status != 0 {
			w.WriteHeader(b.status)
			io.WriteString(w, `{"error":{"message":"backend down"}}`)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		for _, piece := range strings.SplitAfter(b.respond(req.Prompt), " ") {
			fmt.Fprintf(w, "data: {\"choices\":[{\"text\":%q,\"finish_reason\":null}]}\n\n", piece)
			w.(http.Flusher).Flush()
		}
		io.WriteString(w, "data: {\"choices\":[{\"text\":\"\",\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n")
	}))
	t.Cleanup(ts.Close)
	return ts
}

var lastSentence = regexp.MustCompile(`##Answer_Last_Sentence: (.*?) \| ##Your_Revision`)

// fixed answers every Aligner prompt with one text, and every Stream
// Aligner prompt with the sentence in upper case.
func fixed(text string) func(string) string {
	return func(prompt string) string {
		if m := lastSentence.FindStringSubmatch(prompt); m != nil {
			return strings.ToUpper(m[1])
		}
		return text
	}
}

// correctingProxy starts a proxy whose default mode is mode, correcting with
// the fake backend at backendURL.
func correctingProxy(t *testing.T, upstreamURL, backendURL, mode string, edit func(*testConfig)) *httptest.Server {
	t.Helper()
	noLeaks(t)
	cfg := defaultTestConfig()
	cfg.Upstreams = []Upstream{{Name: "test", BaseURL: upstreamURL + "/v1"}}
	cfg.Policies.Default.Mode = mode
	cfg.Correct.Backend = correct.BackendRemote
	cfg.Correct.Remote.BaseURL = backendURL + "/v1"
	cfg.Correct.Remote.Model = "aligner"
	if edit != nil {
		edit(cfg)
	}
	return startProxy(t, cfg, nil)
}

// startProxy validates cfg and serves a proxy correcting with its remote
// backend and store (nil: no cache).
func startProxy(t *testing.T, cfg *testConfig, store correct.Cache) *httptest.Server {
	t.Helper()
	cfg.SetDefaults()
	remote, err := correct.NewRemote(cfg.Correct.Remote, &http.Client{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return serveCorrecting(t, cfg, map[string]correct.Model{correct.BackendRemote: remote}, store)
}

// serveCorrecting validates cfg and serves a proxy whose corrector runs on
// models, caching in store (nil: no cache).
func serveCorrecting(t *testing.T, cfg *testConfig, models map[string]correct.Model, store correct.Cache) *httptest.Server {
	t.Helper()
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	cor, err := correct.New(cfg.Correct, models, store, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(&cfg.Config, Options{Policies: policies.NewEngine(&cfg.Policies), Corrector: cor, Correction: cfg.settings()})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() { _ = s.Close() })
	t.Cleanup(ts.Close)
	return ts
}

const chatAnswer = `{"id":"chatcmpl-1","object":"chat.completion","created":7,"model":"gpt-x","system_fingerprint":"fp",` +
	`"choices":[{"index":0,"message":{"role":"assistant","content":"Bad answer."},"logprobs":null,"finish_reason":"stop"},` +
	`{"index":1,"message":{"role":"assistant","content":"Other answer."},"finish_reason":"length"}],` +
	`"usage":{"prompt_tokens":5,"completion_tokens":3,"total_tokens":8},"x_vendor":{"keep":1.50}}`

func TestAlignerNonStreamReplacesOnlyContent(t *testing.T) {
	be := &backend{respond: fixed("Good answer.")}
	bts := be.server(t)
	up := httptest.NewServer((&recorder{}).handler(200, chatAnswer))
	defer up.Close()
	px := correctingProxy(t, up.URL, bts.URL, "aligner", nil)
	resp, b := post(t, px.URL+"/v1/chat/completions", `{"model":"gpt-x","n":2,"messages":[{"role":"user","content":"Q?"}]}`)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	if resp.Header.Get(headerCorrected) != "true" || resp.Header.Get(headerMode) != "aligner" {
		t.Errorf("headers %v", resp.Header)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	choices := got["choices"].([]any)
	for i, c := range choices {
		msg := c.(map[string]any)["message"].(map[string]any)
		if msg["content"] != "Good answer." {
			t.Errorf("choice %d content %q", i, msg["content"])
		}
	}
	if choices[1].(map[string]any)["finish_reason"] != "length" {
		t.Error("finish_reason changed")
	}
	for _, keep := range []string{`"id":"chatcmpl-1"`, `"system_fingerprint":"fp"`, `"usage":{"prompt_tokens":5,"completion_tokens":3,"total_tokens":8}`, `"x_vendor":{"keep":1.50}`, `"logprobs":null`} {
		if !strings.Contains(string(b), keep) {
			t.Errorf("field lost: %s in %s", keep, b)
		}
	}
	if p := <-be.prompts; !strings.Contains(p, "Q? | Bad answer.") && !strings.Contains(p, "Q? | Other answer.") {
		t.Errorf("prompt %q", p)
	}
}

func TestNeverCorrected(t *testing.T) {
	toolAnswer := `{"id":"c","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":null,` +
		`"tool_calls":[{"id":"t","type":"function","function":{"name":"f","arguments":"{}"}}]},"finish_reason":"tool_calls"}]}`
	tests := []struct {
		name, body, answer, skipped string
	}{
		{"tool call answer", `{"model":"m","messages":[{"role":"user","content":"q"}],"tools":[{"type":"function","function":{"name":"f"}}]}`, toolAnswer, skipTools},
		{"json mode", `{"model":"m","messages":[{"role":"user","content":"q"}],"response_format":{"type":"json_object"}}`, okChat, skipJSON},
		{"logprobs", `{"model":"m","messages":[{"role":"user","content":"q"}],"logprobs":true}`, okChat, skipLogprobs},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			be := &backend{respond: fixed("changed")}
			bts := be.server(t)
			up := httptest.NewServer((&recorder{}).handler(200, tt.answer))
			defer up.Close()
			px := correctingProxy(t, up.URL, bts.URL, "aligner", nil)
			resp, b := post(t, px.URL+"/v1/chat/completions", tt.body)
			if string(b) != tt.answer {
				t.Errorf("answer changed:\n%s", b)
			}
			if got := resp.Header.Get(headerSkipped); got != tt.skipped {
				t.Errorf("skipped %q, want %q", got, tt.skipped)
			}
			if be.calls.Load() != 0 {
				t.Error("backend was called")
			}
		})
	}
}

// sseEvents reads a whole SSE body into its data payloads.
func sseEvents(t *testing.T, r io.Reader) []string {
	t.Helper()
	var out []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			out = append(out, d)
		}
	}
	return out
}

type gotChunk struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Model   string `json:"model"`
	Created int64  `json:"created"`
	Choices []struct {
		Index int `json:"index"`
		Delta struct {
			Role    string  `json:"role"`
			Content *string `json:"content"`
		} `json:"delta"`
		FinishReason *string      `json:"finish_reason"`
		Aligngate    *wire.Report `json:"aligngate"`
	} `json:"choices"`
	Usage json.RawMessage `json:"usage"`
	// Aligngate must stay empty: the report is per choice.
	Aligngate json.RawMessage `json:"aligngate"`
	Error     json.RawMessage `json:"error"`
}

func streamUpstream(sentences []string, gate <-chan struct{}) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, `data: {"id":"s1","object":"chat.completion.chunk","created":9,"model":"gpt-x","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}`+"\n\n")
		for _, s := range sentences {
			if gate != nil {
				<-gate
			}
			b, _ := json.Marshal(s)
			fmt.Fprintf(w, `data: {"id":"s1","object":"chat.completion.chunk","created":9,"model":"gpt-x","choices":[{"index":0,"delta":{"content":%s},"finish_reason":null}]}`+"\n\n", b)
			w.(http.Flusher).Flush()
		}
		fmt.Fprint(w, `data: {"id":"s1","object":"chat.completion.chunk","created":9,"model":"gpt-x","choices":[{"index":0,"delta":{},"finish_reason":"length"}]}`+"\n\n")
		fmt.Fprint(w, `data: {"id":"s1","object":"chat.completion.chunk","created":9,"model":"gpt-x","choices":[],"usage":{"total_tokens":3}}`+"\n\n")
		fmt.Fprint(w, "data: [DONE]\n\n")
	}
}

func TestAlignerStreamsCorrection(t *testing.T) {
	be := &backend{respond: fixed("Much better answer here.")}
	bts := be.server(t)
	up := httptest.NewServer(streamUpstream([]string{"Bad ", "answer."}, nil))
	defer up.Close()
	px := correctingProxy(t, up.URL, bts.URL, "aligner", func(c *testConfig) {
		t := true
		c.Policies.Default.IncludeOriginal = &t
	})
	resp, err := http.Post(px.URL+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"model":"gpt-x","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Q?"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	events := sseEvents(t, resp.Body)
	if events[len(events)-1] != "[DONE]" {
		t.Fatalf("no [DONE]: %q", events)
	}
	var text strings.Builder
	var chunks []gotChunk
	for _, e := range events[:len(events)-1] {
		var c gotChunk
		if err := json.Unmarshal([]byte(e), &c); err != nil {
			t.Fatalf("bad chunk %s", e)
		}
		chunks = append(chunks, c)
	}
	if chunks[0].Choices[0].Delta.Role != "assistant" {
		t.Errorf("first chunk has no role: %+v", chunks[0])
	}
	pieces := 0
	var final *gotChunk
	for i := range chunks {
		c := &chunks[i]
		if c.ID != "s1" || c.Model != "gpt-x" || c.Created != 9 {
			t.Errorf("chunk header changed: %+v", c)
		}
		for _, ch := range c.Choices {
			if ch.Delta.Content != nil {
				text.WriteString(*ch.Delta.Content)
				pieces++
			}
			if ch.FinishReason != nil {
				final = c
			}
		}
	}
	if text.String() != "Much better answer here." || pieces < 2 {
		t.Errorf("streamed %q in %d pieces", text.String(), pieces)
	}
	if final == nil || *final.Choices[0].FinishReason != "length" || final.Choices[0].Aligngate == nil || !final.Choices[0].Aligngate.Corrected ||
		final.Choices[0].Aligngate.Original == nil || *final.Choices[0].Aligngate.Original != "Bad answer." {
		t.Errorf("final chunk %+v", final)
	}
	if last := chunks[len(chunks)-1]; string(last.Usage) != `{"total_tokens":3}` {
		t.Errorf("usage chunk not last: %+v", last)
	}
}

// TestFollowEmitsBeforeUpstreamFinishes proves Stream Aligner sends each
// corrected sentence while the upstream is still generating: the upstream
// writes its next sentence only after the client has read the correction of
// the previous one.
func TestFollowEmitsBeforeUpstreamFinishes(t *testing.T) {
	be := &backend{respond: fixed("")}
	bts := be.server(t)
	gate := make(chan struct{}, 1)
	up := httptest.NewServer(streamUpstream([]string{"First one. ", "Second one. ", "Third"}, gate))
	defer up.Close()
	px := correctingProxy(t, up.URL, bts.URL, "stream", nil)
	gate <- struct{}{}
	resp, err := http.Post(px.URL+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"model":"gpt-x","stream":true,"messages":[{"role":"user","content":"Q?"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	var got []string
	for sc.Scan() {
		d, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok || d == "[DONE]" {
			continue
		}
		var c gotChunk
		json.Unmarshal([]byte(d), &c)
		for _, ch := range c.Choices {
			if ch.Delta.Content != nil && *ch.Delta.Content != "" {
				got = append(got, *ch.Delta.Content)
				select { // let the upstream write its next sentence
				case gate <- struct{}{}:
				default:
				}
			}
		}
	}
	want := []string{"FIRST ONE.", " SECOND ONE.", " THIRD"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %q, want %q", got, want)
	}
	var prompts []string
	for len(be.prompts) > 0 {
		prompts = append(prompts, <-be.prompts)
	}
	if len(prompts) != 3 || !strings.Contains(prompts[2], "##Answer_Prefix: FIRST ONE. SECOND ONE. |") {
		t.Errorf("prefix not carried: %q", prompts)
	}
}

func TestFallbacks(t *testing.T) {
	tests := []struct {
		name       string
		be         *backend
		failClosed bool
		status     int
		fallback   string
	}{
		{"backend 500 fails open", &backend{status: 500}, false, 200, "error"},
		{"backend slow fails open", &backend{delay: 5 * time.Second}, false, 200, "timeout"},
		{"backend 500 fails closed", &backend{status: 500}, true, 502, ""},
		{"backend slow fails closed", &backend{delay: 5 * time.Second}, true, 504, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			be := tt.be
			be.respond = fixed("x")
			bts := be.server(t)
			up := httptest.NewServer((&recorder{}).handler(200, okChat))
			defer up.Close()
			px := correctingProxy(t, up.URL, bts.URL, "aligner", func(c *testConfig) {
				budget := 200 * time.Millisecond
				c.Policies.Default.Budget = &budget
				if tt.failClosed {
					c.Policies.Default.Fail = "closed"
				}
			})
			resp, b := post(t, px.URL+"/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"q"}]}`)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, b)
			}
			if tt.failClosed {
				decodeError(t, b)
				return
			}
			if !strings.Contains(string(b), `"content":"hi"`) {
				t.Errorf("original answer lost: %s", b)
			}
			if got := resp.Header.Get(headerFallback); got != tt.fallback {
				t.Errorf("fallback %q, want %q", got, tt.fallback)
			}
			if resp.Header.Get(headerCorrected) != "false" {
				t.Errorf("corrected header %q", resp.Header.Get(headerCorrected))
			}
		})
	}
}

func TestClientDisconnectCancelsCorrection(t *testing.T) {
	be := &backend{delay: 30 * time.Second, respond: fixed("x")}
	bts := be.server(t)
	up := httptest.NewServer((&recorder{}).handler(200, okChat))
	defer up.Close()
	px := correctingProxy(t, up.URL, bts.URL, "aligner", nil)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "POST", px.URL+"/v1/chat/completions",
		strings.NewReader(`{"model":"m","messages":[{"role":"user","content":"q"}]}`))
	errc := make(chan error, 1)
	go func() {
		_, err := http.DefaultClient.Do(req)
		errc <- err
	}()
	<-be.prompts // the correction has started
	cancel()
	<-errc
	select {
	case <-be.gone:
	case <-time.After(10 * time.Second):
		t.Fatal("backend request not cancelled after the client left")
	}
}
