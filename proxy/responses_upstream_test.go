package proxy

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// The items of the test upstream's Responses answer: a reasoning item and a
// function call beside the message whose text is corrected.
const (
	respReasoning = `{"id":"rs_1","type":"reasoning","summary":[{"type":"summary_text","text":"Thinking about it."}],"encrypted_content":null}`
	respCall      = `{"id":"fc_1","type":"function_call","status":"completed","arguments":"{\"city\":\"Paris\"}","call_id":"call_1","name":"get_weather"}`
	respAnnot     = `{"type":"url_citation","start_index":0,"end_index":3,"url":"https://example.com/","title":"Example"}`
)

// respUpstream is a test double of an upstream that answers /v1/responses
// as OpenAI does: a response object, or (stream: true) the full event
// sequence with sequence numbers from 0, "event:" lines and no [DONE].
type respUpstream struct {
	text  string   // the message's output_text
	parts []string // the deltas it streams in (default: words)
	tools bool     // answer with the function call only
	mu    sync.Mutex
	body  []byte // the last request body
	calls int
}

func (u *respUpstream) server(t *testing.T) *httptest.Server {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		u.mu.Lock()
		u.body, u.calls = b, u.calls+1
		u.mu.Unlock()
		if r.URL.Path != "/v1/responses" {
			http.NotFound(w, r)
			return
		}
		var req struct {
			Stream bool `json:"stream"`
		}
		_ = json.Unmarshal(b, &req)
		if !req.Stream {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, u.response("completed", u.output(true)))
			return
		}
		u.stream(w)
	}))
	t.Cleanup(ts.Close)
	return ts
}

func (u *respUpstream) message(status, text, annotations string) string {
	content := `[]`
	if status == "completed" {
		content = `[` + u.part(text, annotations) + `]`
	}
	return `{"id":"msg_1","type":"message","status":"` + status + `","content":` + content + `,"role":"assistant"}`
}

func (u *respUpstream) part(text, annotations string) string {
	b, _ := json.Marshal(text)
	return `{"type":"output_text","annotations":` + annotations + `,"logprobs":[],"text":` + string(b) + `}`
}

// output is the final output array.
func (u *respUpstream) output(done bool) string {
	if !done {
		return `[]`
	}
	if u.tools {
		return `[` + respReasoning + `,` + respCall + `]`
	}
	return `[` + respReasoning + `,` + respCall + `,` + u.message("completed", u.text, `[`+respAnnot+`]`) + `]`
}

func (u *respUpstream) response(status, output string) string {
	return `{"id":"resp_1","object":"response","created_at":1741476542,"status":"` + status + `","background":false,` +
		`"error":null,"incomplete_details":null,"instructions":null,"max_output_tokens":null,"model":"gpt-x",` +
		`"output":` + output + `,"parallel_tool_calls":true,"previous_response_id":null,` +
		`"reasoning":{"effort":"low","summary":null},"store":true,"temperature":1.0,"text":{"format":{"type":"text"}},` +
		`"tool_choice":"auto","tools":[],"top_p":1.0,"truncation":"disabled",` +
		`"usage":{"input_tokens":12,"input_tokens_details":{"cached_tokens":0},"output_tokens":9,` +
		`"output_tokens_details":{"reasoning_tokens":4},"total_tokens":21},"user":null,"metadata":{}}`
}

// streamEvents is the upstream's event sequence, each a type and its data
// without the sequence number.
func (u *respUpstream) streamEvents() [][2]string {
	ev := func(typ, rest string) [2]string { return [2]string{typ, `{"type":"` + typ + `"` + rest + `}`} }
	out := [][2]string{
		ev("response.created", `,"response":`+u.response("in_progress", `[]`)),
		ev("response.in_progress", `,"response":`+u.response("in_progress", `[]`)),
		ev("response.output_item.added", `,"output_index":0,"item":{"id":"rs_1","type":"reasoning","summary":[]}`),
		ev("response.output_item.done", `,"output_index":0,"item":`+respReasoning),
		ev("response.output_item.added", `,"output_index":1,"item":{"id":"fc_1","type":"function_call","status":"in_progress","arguments":"","call_id":"call_1","name":"get_weather"}`),
		ev("response.function_call_arguments.delta", `,"item_id":"fc_1","output_index":1,"delta":"{\"city\":\"Paris\"}"`),
		ev("response.function_call_arguments.done", `,"item_id":"fc_1","output_index":1,"arguments":"{\"city\":\"Paris\"}"`),
		ev("response.output_item.done", `,"output_index":1,"item":`+respCall),
	}
	if u.tools {
		return append(out, ev("response.completed", `,"response":`+u.response("completed", u.output(true))))
	}
	out = append(out,
		ev("response.output_item.added", `,"output_index":2,"item":`+u.message("in_progress", "", `[]`)),
		ev("response.content_part.added", `,"item_id":"msg_1","output_index":2,"content_index":0,"part":`+u.part("", `[]`)),
	)
	parts := u.parts
	if parts == nil {
		parts = strings.SplitAfter(u.text, " ")
	}
	for _, p := range parts {
		b, _ := json.Marshal(p)
		out = append(out, ev("response.output_text.delta", `,"item_id":"msg_1","output_index":2,"content_index":0,"delta":`+string(b)+`,"logprobs":[],"obfuscation":"xyz"`))
	}
	text, _ := json.Marshal(u.text)
	out = append(out,
		ev("response.output_text.annotation.added", `,"item_id":"msg_1","output_index":2,"content_index":0,"annotation_index":0,"annotation":`+respAnnot),
		ev("response.output_text.done", `,"item_id":"msg_1","output_index":2,"content_index":0,"text":`+string(text)+`,"logprobs":[]`),
		ev("response.content_part.done", `,"item_id":"msg_1","output_index":2,"content_index":0,"part":`+u.part(u.text, `[`+respAnnot+`]`)),
		ev("response.output_item.done", `,"output_index":2,"item":`+u.message("completed", u.text, `[`+respAnnot+`]`)),
		ev("response.completed", `,"response":`+u.response("completed", u.output(true))),
	)
	return out
}

func (u *respUpstream) stream(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/event-stream")
	for i, e := range u.streamEvents() {
		data := strings.Replace(e[1], `{"type":"`+e[0]+`"`, fmt.Sprintf(`{"type":"%s","sequence_number":%d`, e[0], i), 1)
		fmt.Fprintf(w, "event: %s\ndata: %s\n\n", e[0], data)
		w.(http.Flusher).Flush()
	}
}

func (u *respUpstream) lastBody() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return string(u.body)
}

func (u *respUpstream) callCount() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.calls
}
