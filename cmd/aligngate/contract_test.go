package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// sseEvents posts a streamed chat completion and returns the data payload
// of every event before [DONE], and every comment line.
func sseEvents(t *testing.T, base, body string, header http.Header) (events []map[string]any, comments []string, res *http.Response) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, ":"):
			comments = append(comments, line)
		case line == "data: [DONE]":
			return events, comments, res
		case strings.HasPrefix(line, "data: "):
			var ev map[string]any
			if err := json.Unmarshal([]byte(line[6:]), &ev); err != nil {
				t.Fatalf("event %q: %v", line, err)
			}
			events = append(events, ev)
		}
	}
	t.Fatalf("stream ended without [DONE]; %d events", len(events))
	return nil, nil, nil
}

// choicesOf returns the choices of an event or answer.
func choicesOf(ev map[string]any) []map[string]any {
	list, _ := ev["choices"].([]any)
	out := make([]map[string]any, 0, len(list))
	for _, c := range list {
		if m, ok := c.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// streamText joins the content deltas of choice 0.
func streamText(events []map[string]any) string {
	var b strings.Builder
	for _, ev := range events {
		for _, c := range choicesOf(ev) {
			d, _ := c["delta"].(map[string]any)
			if s, ok := d["content"].(string); ok {
				b.WriteString(s)
			}
		}
	}
	return b.String()
}

// TestReportPerChoiceInBothShapes checks that the aligngate report sits in
// the choice, for whole answers and for the last chunk of a streamed
// choice, in both correcting modes, and never at the top of a chunk.
func TestReportPerChoiceInBothShapes(t *testing.T) {
	be := backend(t, []string{"aligner"}, "Ask a locksmith.")
	up := chatUpstream(t, "Use a pin. Then turn it.")
	for _, mode := range []string{"aligner", "stream"} {
		s := startServe(t, nil, "--upstream", up.URL+"/v1", "--aligner-url", be.URL, "--mode", mode)
		_, body := chat(t, s.url, userQuestion)
		var whole map[string]any
		if err := json.Unmarshal(body, &whole); err != nil {
			t.Fatal(err)
		}
		if _, top := whole["aligngate"]; top {
			t.Errorf("%s whole: report at the top: %s", mode, body)
		}
		if ch := choicesOf(whole); len(ch) != 1 || ch[0]["aligngate"] == nil {
			t.Errorf("%s whole: no report in the choice: %s", mode, body)
		}
		events, _, _ := sseEvents(t, s.url, strings.Replace(userQuestion, "{", `{"stream":true,`, 1), nil)
		reports := 0
		for _, ev := range events {
			if _, top := ev["aligngate"]; top {
				t.Errorf("%s stream: report at the top of a chunk: %v", mode, ev)
			}
			for _, c := range choicesOf(ev) {
				if rep, ok := c["aligngate"].(map[string]any); ok {
					reports++
					if c["finish_reason"] == nil || rep["mode"] != mode {
						t.Errorf("%s stream: report %v on a chunk without finish_reason %v", mode, rep, c)
					}
				}
			}
		}
		if reports != 1 {
			t.Errorf("%s stream: %d reports, want 1 (on the final chunk's choice)", mode, reports)
		}
	}
}

// toolUpstream is an upstream double whose every answer is one tool call,
// whole or streamed.
func toolUpstream(t *testing.T) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct{ Stream bool }
		_ = json.NewDecoder(r.Body).Decode(&req)
		if !req.Stream {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"id":"c1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"weather","arguments":"{\"city\":\"Paris\"}"}}]},"finish_reason":"tool_calls"}]}`)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"weather","arguments":""}}]},"finish_reason":null}]}`+"\n\n")
		io.WriteString(w, `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":\"Paris\"}"}}]},"finish_reason":null}]}`+"\n\n")
		io.WriteString(w, `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}`+"\n\ndata: [DONE]\n\n")
	}))
	t.Cleanup(ts.Close)
	return ts
}

const toolQuestion = `{"model":"m","tools":[{"type":"function","function":{"name":"weather","parameters":{"type":"object"}}}],` +
	`"messages":[{"role":"user","content":"Weather in Paris?"}]}`

// TestToolCallsReportTools checks that a tool-call answer is reported as
// skipped for `tools`, as the README says: in X-Aligngate-Skipped for whole
// answers and every mode where headers can still say it, and in the final
// chunk's report in aligner-mode streams, whose headers left first.
func TestToolCallsReportTools(t *testing.T) {
	be := backend(t, []string{"aligner"}, "Never used.")
	up := toolUpstream(t)
	for _, mode := range []string{"aligner", "stream"} {
		s := startServe(t, nil, "--upstream", up.URL+"/v1", "--aligner-url", be.URL, "--mode", mode)
		res, body := chat(t, s.url, toolQuestion)
		if got := res.Header.Get("X-Aligngate-Skipped"); got != "tools" {
			t.Errorf("%s whole: X-Aligngate-Skipped %q, want tools", mode, got)
		}
		if !strings.Contains(string(body), `"tool_calls":[{"id":"call_1"`) {
			t.Errorf("%s whole: tool call not relayed: %s", mode, body)
		}
		events, _, res := sseEvents(t, s.url, strings.Replace(toolQuestion, "{", `{"stream":true,`, 1), nil)
		skipped := res.Header.Get("X-Aligngate-Skipped")
		for _, ev := range events {
			for _, c := range choicesOf(ev) {
				if rep, ok := c["aligngate"].(map[string]any); ok {
					skipped, _ = rep["skipped"].(string)
				}
			}
		}
		if skipped != "tools" {
			t.Errorf("%s stream: skipped %q, want tools (header or final report)", mode, skipped)
		}
		// Aligner mode sends its role chunk before the upstream's events
		// (correct.aligner_stream_keepalive); stream mode relays them alone.
		want := 3
		if mode == "aligner" {
			want = 4
		}
		if len(events) != want || !strings.Contains(fmt.Sprint(events[len(events)-2]), "Paris") {
			t.Errorf("%s stream: %d events, want %d with the upstream's 3 last: %v", mode, len(events), want, events)
		}
	}
}

// TestClientMaxTokensCapsCorrection: the client's max_tokens (and
// max_completion_tokens) caps the corrected answer too, in every mode and
// shape; a correction cut by it ends with finish_reason "length"; usage
// stays the upstream's and the correction's own counts are in the report.
func TestClientMaxTokensCapsCorrection(t *testing.T) {
	// One token per word in both doubles.
	be := backend(t, []string{"aligner"}, "one two three four five six seven eight nine ten.")
	up := chatUpstream(t, "Use a pin and a tension wrench on the lock.")
	for _, mode := range []string{"aligner", "stream"} {
		s := startServe(t, nil, "--upstream", up.URL+"/v1", "--aligner-url", be.URL, "--mode", mode)
		for _, field := range []string{"max_tokens", "max_completion_tokens"} {
			req := strings.Replace(userQuestion, "{", `{"`+field+`":5,`, 1)
			_, body := chat(t, s.url, req)
			var whole struct {
				Choices []struct {
					Message      struct{ Content string }
					FinishReason string `json:"finish_reason"`
					Aligngate    struct {
						Usage struct {
							Completion int `json:"completion_tokens"`
						}
					}
				}
				Usage struct {
					Completion int `json:"completion_tokens"`
				}
			}
			if err := json.Unmarshal(body, &whole); err != nil || len(whole.Choices) != 1 {
				t.Fatalf("%s %s: %s", mode, field, body)
			}
			c := whole.Choices[0]
			if got := strings.TrimSpace(c.Message.Content); got != "one two three four five" {
				t.Errorf("%s %s whole: content %q, want the first 5 tokens of the correction", mode, field, got)
			}
			if c.FinishReason != "length" {
				t.Errorf("%s %s whole: finish_reason %q, want length", mode, field, c.FinishReason)
			}
			if whole.Usage.Completion != 5 || c.Aligngate.Usage.Completion != 5 {
				t.Errorf("%s %s whole: usage %d (want the upstream's 5), report usage %d (want 5): %s",
					mode, field, whole.Usage.Completion, c.Aligngate.Usage.Completion, body)
			}
			events, _, _ := sseEvents(t, s.url, strings.Replace(req, "{", `{"stream":true,`, 1), nil)
			if got := strings.TrimSpace(streamText(events)); got != "one two three four five" {
				t.Errorf("%s %s stream: text %q", mode, field, got)
			}
			var finish any
			var upstreamUsage float64
			for _, ev := range events {
				for _, ch := range choicesOf(ev) {
					if f := ch["finish_reason"]; f != nil {
						finish = f
					}
				}
				if u, ok := ev["usage"].(map[string]any); ok {
					upstreamUsage, _ = u["completion_tokens"].(float64)
				}
			}
			if finish != "length" {
				t.Errorf("%s %s stream: finish_reason %v, want length", mode, field, finish)
			}
			if mode == "aligner" && upstreamUsage != 5 {
				t.Errorf("%s %s stream: upstream usage %v not relayed", mode, field, upstreamUsage)
			}
		}
	}
}

// gatedUpstream streams its first chunk at once and the rest of the answer
// only once release is closed.
func gatedUpstream(t *testing.T, release <-chan struct{}) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, `data: {"id":"g1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"Use "},"finish_reason":null}]}`+"\n\n")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		io.WriteString(w, `data: {"id":"g1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"a pin."},"finish_reason":"stop"}]}`+"\n\ndata: [DONE]\n\n")
	}))
	t.Cleanup(ts.Close)
	return ts
}

// TestAlignerStreamKeepalive: while an aligner-mode stream collects the
// upstream answer, the client already gets the role chunk and SSE comment
// keep-alives (the upstream is held until both arrived); the correction
// follows. With the option off, no comment is sent.
func TestAlignerStreamKeepalive(t *testing.T) {
	be := backend(t, []string{"aligner"}, "Ask a locksmith.")
	for _, on := range []bool{true, false} {
		release := make(chan struct{})
		up := gatedUpstream(t, release)
		if !on {
			close(release)
		}
		cfg := writeConfig(t, fmt.Sprintf("upstreams: [{name: u, base_url: %q}]\npolicies: {records: {sink: \"off\"}, default: {mode: aligner}}\n"+
			"correct: {backend: remote, remote: {base_url: %q}, aligner_stream_keepalive: %t, aligner_stream_keepalive_every: 20ms}\n", up.URL+"/v1", be.URL, on))
		s := startServe(t, nil, "--config", cfg)
		req, _ := http.NewRequest(http.MethodPost, s.url+"/v1/chat/completions", strings.NewReader(strings.Replace(userQuestion, "{", `{"stream":true,`, 1)))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(res.Body)
		var lines []string
		sawRole, comments := false, 0
		for sc.Scan() {
			line := sc.Text()
			lines = append(lines, line)
			if strings.HasPrefix(line, ": ") {
				comments++
			}
			if strings.HasPrefix(line, "data: {") && strings.Contains(line, `"role":"assistant"`) && !strings.Contains(line, "locksmith") {
				sawRole = true
			}
			if on && sawRole && comments > 0 {
				select {
				case <-release:
				default:
					close(release) // the client saw both before the upstream finished
				}
			}
		}
		res.Body.Close()
		text := strings.Join(lines, "\n")
		if on && (!sawRole || comments == 0) {
			t.Errorf("keepalive on: role chunk %v, %d comments:\n%s", sawRole, comments, text)
		}
		if !on && comments != 0 {
			t.Errorf("keepalive off: %d comments:\n%s", comments, text)
		}
		if !strings.Contains(text, "locksmith") || !strings.Contains(text, "data: [DONE]") {
			t.Errorf("keepalive %v: correction missing or stream unfinished:\n%s", on, text)
		}
		if strings.Count(text, `"role":"assistant"`) != 1 {
			t.Errorf("keepalive %v: the role is sent %d times:\n%s", on, strings.Count(text, `"role":"assistant"`), text)
		}
	}
}
