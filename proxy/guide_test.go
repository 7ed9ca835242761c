package proxy

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aligngate/aligngate/correct"
	"github.com/aligngate/aligngate/wire"
)

// guidedRequest is what the fake guided upstream reads of each call.
type guidedRequest struct {
	Stream        bool            `json:"stream"`
	N             *int            `json:"n"`
	StreamOptions json.RawMessage `json:"stream_options"`
	Continue      bool            `json:"continue_final_message"`
	AddGeneration *bool           `json:"add_generation_prompt"`
	Extra         json.RawMessage `json:"x_extra"`
	Messages      []struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	} `json:"messages"`
}

// prefix is the assistant message the call continues, or "".
func (r guidedRequest) prefix() string {
	if n := len(r.Messages); n > 0 && r.Messages[n-1].Role == "assistant" {
		return r.Messages[n-1].Content
	}
	return ""
}

// guidedUpstream is a fake upstream that continues an assistant prefix the
// way vLLM does with continue_final_message (the answering LLM is outside
// aligngate, so a test double stands in). Call k streams script[k] word by
// word once release[k] is closed; every call but the last then goes on with
// the first word of the next sentence and waits until the proxy cancels it,
// the last one ends with finish_reason "stop".
type guidedUpstream struct {
	script    []string
	release   []chan struct{}
	fail      map[int]int // call -> status to answer with
	arrived   chan int    // calls received
	cancelled chan int    // calls the proxy cancelled
	log       *orderLog

	mu   sync.Mutex
	reqs []guidedRequest
}

func newGuidedUpstream(script []string, gated bool, log *orderLog) *guidedUpstream {
	u := &guidedUpstream{script: script, fail: map[int]int{}, log: log,
		arrived: make(chan int, len(script)+1), cancelled: make(chan int, len(script)+1)}
	for i := range script {
		u.release = append(u.release, make(chan struct{}))
		if !gated || i == 0 {
			close(u.release[i])
		}
	}
	return u
}

func (u *guidedUpstream) requests() []guidedRequest {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]guidedRequest(nil), u.reqs...)
}

func (u *guidedUpstream) server(t *testing.T) *httptest.Server {
	ts := httptest.NewServer(http.HandlerFunc(u.serve))
	t.Cleanup(ts.Close)
	return ts
}

func (u *guidedUpstream) serve(w http.ResponseWriter, r *http.Request) {
	var req guidedRequest
	_ = json.NewDecoder(r.Body).Decode(&req)
	u.mu.Lock()
	k := len(u.reqs)
	u.reqs = append(u.reqs, req)
	u.mu.Unlock()
	select {
	case u.arrived <- k:
	default: // more calls than the script: answered 418 below
	}
	if status := u.fail[k]; status != 0 {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Upstream", "kept")
		w.WriteHeader(status)
		io.WriteString(w, `{"error":{"message":"upstream down","type":"server_error","code":"x"}}`)
		return
	}
	if k >= len(u.script) {
		http.Error(w, "too many calls", http.StatusTeapot)
		return
	}
	select {
	case <-u.release[k]:
	case <-r.Context().Done():
		u.cancelled <- k
		return
	}
	u.log.add(fmt.Sprintf("upstream streams %d", k))
	w.Header().Set("Content-Type", "text/event-stream")
	send := func(delta, finish string) {
		f := "null"
		if finish != "" {
			f = `"` + finish + `"`
		}
		fmt.Fprintf(w, `data: {"id":"g1","object":"chat.completion.chunk","created":11,"model":"gpt-x","choices":[{"index":0,"delta":%s,"finish_reason":%s}]}`+"\n\n", delta, f)
		w.(http.Flusher).Flush()
	}
	send(`{"role":"assistant","content":""}`, "")
	for _, word := range strings.SplitAfter(u.script[k], " ") {
		b, _ := json.Marshal(word)
		send(`{"content":`+string(b)+`}`, "")
	}
	if k == len(u.script)-1 {
		send(`{}`, "stop")
		io.WriteString(w, "data: [DONE]\n\n")
		return
	}
	next, _ := json.Marshal(strings.SplitAfter(u.script[k+1], " ")[0] + " ")
	send(`{"content":`+string(next)+`}`, "")
	<-r.Context().Done()
	u.cancelled <- k
}

// orderLog records events from several goroutines in the order they happen.
type orderLog struct {
	mu     sync.Mutex
	events []string
}

func (l *orderLog) add(e string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

func (l *orderLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.events...)
}

var guideScript = []string{"Hello there friend.", " This is two.", " Last one here."}

// guideCorrected is guideScript as the fake backend corrects it.
var guideCorrected = []string{"HELLO THERE FRIEND.", " THIS IS TWO.", " LAST ONE HERE."}

const guideRequest = `{"model":"gpt-x","n":1,"stream":%t,"stream_options":{"include_usage":true},"x_extra":{"keep":[1,2]},` +
	`"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Q?"}]}`

func guideProxy(t *testing.T, upURL string, edit func(*testConfig)) (*httptest.Server, *backend) {
	t.Helper()
	be := &backend{respond: fixed("")}
	bts := be.server(t)
	px := correctingProxy(t, upURL, bts.URL, "stream", func(c *testConfig) {
		c.Upstreams[0].Drive = "guide"
		if edit != nil {
			edit(c)
		}
	})
	return px, be
}

// guideStream posts guideRequest as a stream request under ctx.
func guideStream(ctx context.Context, t *testing.T, proxyURL string) *http.Response {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, proxyURL+"/v1/chat/completions",
		strings.NewReader(fmt.Sprintf(guideRequest, true)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// TestGuideStreamsSentenceBySentence proves the guide loop: the client gets
// corrected sentence k while the upstream has not been let to answer call
// k+1 (it is released only once the client has read sentence k, so a proxy
// that held sentences back would never finish), each call is cut at its
// sentence boundary, and call k+1 continues from the corrected prefix.
func TestGuideStreamsSentenceBySentence(t *testing.T) {
	log := &orderLog{}
	up := newGuidedUpstream(guideScript, true, log)
	px, _ := guideProxy(t, up.server(t).URL, nil)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // a hang guard, not a measure
	defer cancel()
	resp := guideStream(ctx, t, px.URL)
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !isEventStream(resp.Header) {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("status %d %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}

	var pieces []string
	var chunks []gotChunk
	done := false
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		d, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		if d == "[DONE]" {
			done = true
			continue
		}
		var c gotChunk
		if err := json.Unmarshal([]byte(d), &c); err != nil {
			t.Fatalf("bad chunk %s", d)
		}
		chunks = append(chunks, c)
		for _, ch := range c.Choices {
			if ch.Delta.Content == nil {
				continue
			}
			k := len(pieces)
			pieces = append(pieces, *ch.Delta.Content)
			log.add(fmt.Sprintf("client got %d", k))
			if k+1 < len(up.release) {
				close(up.release[k+1]) // let the upstream answer the next call
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("stream cut after %q: %v", pieces, err)
	}
	if strings.Join(pieces, "|") != strings.Join(guideCorrected, "|") {
		t.Fatalf("client got %q, want %q", pieces, guideCorrected)
	}
	if !done {
		t.Error("no [DONE]")
	}
	want := []string{"upstream streams 0", "client got 0", "upstream streams 1", "client got 1", "upstream streams 2", "client got 2"}
	if got := log.all(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("order %q, want %q", got, want)
	}

	first, last := chunks[0], chunks[len(chunks)-1]
	if first.Choices[0].Delta.Role != "assistant" {
		t.Errorf("first chunk has no role: %+v", first)
	}
	for _, c := range chunks {
		if c.ID != "g1" || c.Model != "gpt-x" || c.Created != 11 || c.Object != "chat.completion.chunk" {
			t.Errorf("chunk head not the upstream's: %+v", c)
		}
	}
	if fr := last.Choices[0].FinishReason; fr == nil || *fr != "stop" || last.Choices[0].Aligngate == nil ||
		!last.Choices[0].Aligngate.Corrected || last.Choices[0].Aligngate.Mode != "stream" {
		t.Errorf("final chunk %+v", last)
	}

	reqs := up.requests()
	if len(reqs) != len(guideScript) {
		t.Fatalf("%d upstream calls, want %d", len(reqs), len(guideScript))
	}
	var prefix strings.Builder
	for k, r := range reqs {
		if got := r.prefix(); got != prefix.String() {
			t.Errorf("call %d continued %q, want the corrected prefix %q", k, got, prefix.String())
		}
		if k > 0 && (!r.Continue || r.AddGeneration == nil || *r.AddGeneration) {
			t.Errorf("call %d: continue_final_message %v, add_generation_prompt %v", k, r.Continue, r.AddGeneration)
		}
		if k == 0 && (r.Continue || r.AddGeneration != nil || len(r.Messages) != 2) {
			t.Errorf("first call changed the conversation: %+v", r)
		}
		if !r.Stream || r.N != nil || r.StreamOptions != nil || string(r.Extra) != `{"keep":[1,2]}` || r.Messages[1].Content != "Q?" {
			t.Errorf("call %d body fields: %+v", k, r)
		}
		prefix.WriteString(guideCorrected[k])
	}
	for range len(guideScript) - 1 {
		select {
		case <-up.cancelled:
		case <-ctx.Done():
			t.Fatal("an upstream call was not cancelled at its sentence boundary")
		}
	}
}

func TestGuideNonStream(t *testing.T) {
	up := newGuidedUpstream(guideScript, false, &orderLog{})
	px, _ := guideProxy(t, up.server(t).URL, nil)
	resp, b := post(t, px.URL+"/v1/chat/completions", fmt.Sprintf(guideRequest, false))
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	var got struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Model   string `json:"model"`
		Created int64  `json:"created"`
		Choices []struct {
			Message struct {
				Role    string `json:"role"`
				Content string `json:"content"`
			} `json:"message"`
			FinishReason string       `json:"finish_reason"`
			Aligngate    *wire.Report `json:"aligngate"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(b, &got); err != nil || len(got.Choices) != 1 {
		t.Fatalf("body %s (%v)", b, err)
	}
	c := got.Choices[0]
	if want := strings.Join(guideCorrected, ""); c.Message.Content != want || c.Message.Role != "assistant" {
		t.Errorf("message %+v, want %q", c.Message, want)
	}
	if got.ID != "g1" || got.Model != "gpt-x" || got.Created != 11 || got.Object != "chat.completion" || c.FinishReason != "stop" {
		t.Errorf("completion %s", b)
	}
	if c.Aligngate == nil || !c.Aligngate.Corrected {
		t.Errorf("report %+v", c.Aligngate)
	}
	if resp.Header.Get(headerCorrected) != "true" || resp.Header.Get(headerMode) != "stream" {
		t.Errorf("headers %v", resp.Header)
	}
	if n := len(up.requests()); n != len(guideScript) {
		t.Errorf("%d upstream calls, want %d", n, len(guideScript))
	}
}

// TestGuideMaxRounds stops the loop after max_rounds calls with
// finish_reason "length".
func TestGuideMaxRounds(t *testing.T) {
	up := newGuidedUpstream(guideScript, false, &orderLog{})
	px, _ := guideProxy(t, up.server(t).URL, func(c *testConfig) { c.Correct.MaxRounds = 2 })
	resp, err := http.Post(px.URL+"/v1/chat/completions", "application/json", strings.NewReader(fmt.Sprintf(guideRequest, true)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	events := sseEvents(t, resp.Body)
	var text strings.Builder
	var finish string
	for _, e := range events[:len(events)-1] {
		var c gotChunk
		if err := json.Unmarshal([]byte(e), &c); err != nil {
			t.Fatalf("bad chunk %s", e)
		}
		if ch := c.Choices[0]; ch.Delta.Content != nil {
			text.WriteString(*ch.Delta.Content)
		} else if ch.FinishReason != nil {
			finish = *ch.FinishReason
		}
	}
	if want := guideCorrected[0] + guideCorrected[1]; text.String() != want || finish != "length" || events[len(events)-1] != "[DONE]" {
		t.Errorf("got %q finish %q, want %q finish length; events %q", text.String(), finish, want, events)
	}
	if n := len(up.requests()); n != 2 {
		t.Errorf("%d upstream calls, want 2", n)
	}
}

func TestGuideUpstreamErrors(t *testing.T) {
	const upstreamBody = `{"error":{"message":"upstream down","type":"server_error","code":"x"}}`
	tests := []struct {
		name   string
		stream bool
		failAt int
	}{
		{"first call, stream", true, 0},
		{"first call, whole", false, 0},
		{"later call, whole", false, 1},
		{"later call, stream", true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := newGuidedUpstream(guideScript, false, &orderLog{})
			up.fail[tt.failAt] = http.StatusInternalServerError
			px, _ := guideProxy(t, up.server(t).URL, nil)
			resp, b := post(t, px.URL+"/v1/chat/completions", fmt.Sprintf(guideRequest, tt.stream))
			if tt.stream && tt.failAt > 0 {
				// Sentence 0 went out: the error is reported in-band, without [DONE].
				events := sseEvents(t, strings.NewReader(string(b)))
				if resp.StatusCode != 200 || len(events) < 2 || events[len(events)-1] != upstreamBody ||
					!strings.Contains(events[0], guideCorrected[0]) {
					t.Errorf("status %d events %q", resp.StatusCode, events)
				}
				return
			}
			if resp.StatusCode != http.StatusInternalServerError || string(b) != upstreamBody || resp.Header.Get("X-Upstream") != "kept" {
				t.Errorf("status %d headers %v body %s", resp.StatusCode, resp.Header, b)
			}
		})
	}
}

// TestGuideClientDisconnect cancels the upstream call in flight when the
// client leaves mid-answer.
func TestGuideClientDisconnect(t *testing.T) {
	up := newGuidedUpstream(guideScript, true, &orderLog{})
	px, _ := guideProxy(t, up.server(t).URL, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	resp := guideStream(ctx, t, px.URL)
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if strings.Contains(sc.Text(), guideCorrected[0]) {
			break
		}
	}
	// Call 1 is held (never released); once it is in flight the client leaves.
	for k := range up.arrived {
		if k == 1 {
			break
		}
	}
	cancel()
	for {
		select {
		case k := <-up.cancelled:
			if k == 1 {
				return
			}
		case <-time.After(20 * time.Second):
			t.Fatal("upstream call 1 not cancelled after the client left")
		}
	}
}

// TestGuideSentenceCut checks where one guide call is cut, the upstream text
// arriving one byte at a time.
func TestGuideSentenceCut(t *testing.T) {
	tests := []struct {
		name, stream, want string
		complete           bool
	}{
		{"first sentence", "Hello there. Next one.", "Hello there.", true},
		{"leading blank lines kept", "\n\n Hi there. More", "\n\n Hi there.", true},
		{"abbreviation is no boundary", "See e.g. this one. Then", "See e.g. this one.", true},
		{"text before a fence", "Intro:\n```py\nx = 1\n```\n", "Intro:", true},
		{"whole code block", "```go\nx := 1. y\n\n```\nAfter. more", "```go\nx := 1. y\n\n```\n", true},
		{"shorter run does not close", "~~~~\na\n~~~\nb. c\n~~~~~\nrest.", "~~~~\na\n~~~\nb. c\n~~~~~\n", true},
		{"unfinished sentence", "No end yet", "", false},
		{"unclosed code block", "```\ncode\n", "```\ncode\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			split := correct.NewSplitter()
			var cut sentenceCut
			complete := false
			for i := 0; i < len(tt.stream) && !complete; i++ {
				complete = cut.add(split.Write(tt.stream[i:i+1]), false)
			}
			if complete != tt.complete || cut.String() != tt.want {
				t.Errorf("cut %q (complete %v), want %q (%v)", cut.String(), complete, tt.want, tt.complete)
			}
		})
	}
}
