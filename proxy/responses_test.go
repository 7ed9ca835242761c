package proxy

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aligngate/aligngate/policies"
	"github.com/aligngate/aligngate/wire"
)

const (
	respOriginal = "Bad answer. Second sentence."
	respAligned  = "Much better answer here."
	respStreamed = "BAD ANSWER. SECOND SENTENCE."
)

// respCorrected is what each mode makes of respOriginal with the fixed
// backend: Aligner's one answer, Stream Aligner's sentences upper-cased.
var respCorrected = map[string]string{"aligner": respAligned, "stream": respStreamed}

// gotResponse is what the tests read of a response object.
type gotResponse struct {
	ID     string            `json:"id"`
	Output []json.RawMessage `json:"output"`
	Usage  json.RawMessage   `json:"usage"`
	Report *wire.Report      `json:"aligngate"`
}

func (r *gotResponse) messageText(t *testing.T) (string, json.RawMessage) {
	t.Helper()
	if len(r.Output) != 3 {
		t.Fatalf("output has %d items", len(r.Output))
	}
	var msg struct {
		Content []struct {
			Text        string          `json:"text"`
			Annotations json.RawMessage `json:"annotations"`
		} `json:"content"`
	}
	if err := json.Unmarshal(r.Output[2], &msg); err != nil || len(msg.Content) != 1 {
		t.Fatalf("message %s: %v", r.Output[2], err)
	}
	return msg.Content[0].Text, msg.Content[0].Annotations
}

func TestResponsesWholeCorrected(t *testing.T) {
	for _, mode := range []string{"aligner", "stream"} {
		t.Run(mode, func(t *testing.T) {
			be := &backend{respond: fixed(respAligned)}
			bts := be.server(t)
			u := &respUpstream{text: respOriginal}
			px := correctingProxy(t, u.server(t).URL, bts.URL, mode, nil)
			resp, b := post(t, px.URL+"/v1/responses", `{"model":"gpt-x","input":"Q?","instructions":"Be kind."}`)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, b)
			}
			if resp.Header.Get(headerCorrected) != "true" || resp.Header.Get(headerMode) != mode || resp.Header.Get(headerSkipped) != "" {
				t.Errorf("headers %v", resp.Header)
			}
			var got gotResponse
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			text, annotations := got.messageText(t)
			if text != respCorrected[mode] {
				t.Errorf("text %q, want %q", text, respCorrected[mode])
			}
			if string(annotations) != `[]` {
				t.Errorf("annotations of a changed text kept: %s", annotations)
			}
			if string(got.Output[0]) != respReasoning || string(got.Output[1]) != respCall {
				t.Errorf("other items changed:\n%s\n%s", got.Output[0], got.Output[1])
			}
			if got.Report == nil || !got.Report.Corrected || got.Report.Mode != mode {
				t.Errorf("report %+v", got.Report)
			}
			want := u.response("completed", `[`+respReasoning+`,`+respCall+`,`)
			head := want[:strings.Index(want, `"output":`)]
			tail := want[strings.Index(want, `,"parallel_tool_calls"`):]
			if !strings.HasPrefix(string(b), head) || !strings.Contains(string(b), tail[:len(tail)-1]+`,"aligngate":`) {
				t.Errorf("top-level members changed:\n%s", b)
			}
			if p := <-be.prompts; !strings.Contains(p, "Q?") || strings.Contains(p, "Be kind.") {
				t.Errorf("prompt %q: want the input as question, without instructions (multi_turn off)", p)
			}
		})
	}
}

// respEvent is one event of a Responses stream as the client read it.
type respEvent struct {
	name string
	data string
	ev   wire.ResponseEvent
	seq  int64
}

func readRespEvents(t *testing.T, r io.Reader) []respEvent {
	t.Helper()
	var out []respEvent
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	name := ""
	for sc.Scan() {
		line := sc.Text()
		if n, ok := strings.CutPrefix(line, "event: "); ok {
			name = n
			continue
		}
		d, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			continue
		}
		if d == "[DONE]" {
			t.Errorf("[DONE] in a Responses stream whose upstream sent none")
			continue
		}
		ev, err := wire.ParseResponseEvent([]byte(d))
		if err != nil || ev.SequenceNumber == nil {
			t.Fatalf("bad event %s: %v", d, err)
		}
		if name != ev.Type {
			t.Errorf("event line %q for type %q", name, ev.Type)
		}
		out = append(out, respEvent{name: name, data: d, ev: ev, seq: *ev.SequenceNumber})
		name = ""
	}
	return out
}

// withoutSeq is an event's data without its sequence number.
func withoutSeq(t *testing.T, data string) string {
	t.Helper()
	o, err := wire.ParseObject([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	o.Delete("sequence_number")
	b, _ := o.MarshalJSON()
	return string(b)
}

func postStream(t *testing.T, url, body string) (*http.Response, []respEvent) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !isEventStream(resp.Header) {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("status %d %q: %s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	return resp, readRespEvents(t, resp.Body)
}

// checkRespStream asserts a corrected stream: sequence numbers from 0 and
// strictly increasing, every non-text event as the upstream sent it and in
// its order, corrected deltas and done events, the final response holding
// the corrected text and the report. It returns the deltas and the report.
func checkRespStream(t *testing.T, u *respUpstream, events []respEvent, want string) ([]string, *wire.Report) {
	t.Helper()
	for i, e := range events {
		if e.seq != int64(i) {
			t.Fatalf("event %d (%s) has sequence number %d", i, e.name, e.seq)
		}
	}
	var passed []string
	for _, e := range u.streamEvents() {
		switch e[0] {
		case wire.EventOutputTextDelta, wire.EventOutputTextDone, wire.EventOutputTextAnnot, wire.EventContentPartDone, wire.EventResponseCompleted:
		default:
			if !strings.Contains(e[1], `"msg_1"`) || e[0] != wire.EventOutputItemDone {
				passed = append(passed, e[1])
			}
		}
	}
	var deltas, relayed []string
	var final gotResponse
	for _, e := range events {
		switch e.name {
		case wire.EventOutputTextDelta:
			if e.ev.ItemID != "msg_1" || e.ev.OutputIndex != 2 || e.ev.ContentIndex != 0 {
				t.Errorf("delta %s", e.data)
			}
			deltas = append(deltas, e.ev.Delta)
		case wire.EventOutputTextAnnot:
			t.Errorf("annotation of a changed text relayed: %s", e.data)
		case wire.EventOutputTextDone:
			if e.ev.Text == nil || *e.ev.Text != want || len(deltas) == 0 {
				t.Errorf("text done %s after %d deltas", e.data, len(deltas))
			}
		case wire.EventContentPartDone:
			var p wire.ContentPart
			if json.Unmarshal(e.ev.Part, &p) != nil || p.Text == nil || *p.Text != want {
				t.Errorf("part done %s", e.data)
			}
		case wire.EventResponseCompleted:
			if err := json.Unmarshal(e.ev.Response, &final); err != nil {
				t.Fatal(err)
			}
		case wire.EventOutputItemDone:
			if e.ev.OutputIndex == 2 {
				var m struct {
					Content []wire.ContentPart `json:"content"`
				}
				if json.Unmarshal(e.ev.Item, &m) != nil || len(m.Content) != 1 || *m.Content[0].Text != want {
					t.Errorf("item done %s", e.data)
				}
				continue
			}
			relayed = append(relayed, withoutSeq(t, e.data))
		default:
			relayed = append(relayed, withoutSeq(t, e.data))
		}
	}
	if strings.Join(relayed, "\n") != strings.Join(passed, "\n") {
		t.Errorf("non-text events changed or reordered:\n%s\nwant\n%s", strings.Join(relayed, "\n"), strings.Join(passed, "\n"))
	}
	if got := strings.Join(deltas, ""); got != want {
		t.Errorf("deltas %q, want %q", got, want)
	}
	if events[len(events)-1].name != wire.EventResponseCompleted {
		t.Fatalf("last event %s", events[len(events)-1].name)
	}
	text, annotations := final.messageText(t)
	if text != want || string(annotations) != `[]` {
		t.Errorf("completed response text %q annotations %s", text, annotations)
	}
	if string(final.Output[0]) != respReasoning || string(final.Output[1]) != respCall {
		t.Errorf("completed response's other items changed")
	}
	return deltas, final.Report
}

func TestResponsesStreamCorrected(t *testing.T) {
	for _, mode := range []string{"aligner", "stream"} {
		t.Run(mode, func(t *testing.T) {
			be := &backend{respond: fixed(respAligned)}
			bts := be.server(t)
			u := &respUpstream{text: respOriginal}
			px := correctingProxy(t, u.server(t).URL, bts.URL, mode, func(c *testConfig) {
				yes := true
				c.Policies.Default.IncludeOriginal = &yes
			})
			resp, events := postStream(t, px.URL+"/v1/responses", `{"model":"gpt-x","input":"Q?","stream":true}`)
			if resp.Header.Get(headerMode) != mode {
				t.Errorf("mode header %q", resp.Header.Get(headerMode))
			}
			deltas, rep := checkRespStream(t, u, events, respCorrected[mode])
			if len(deltas) < 2 {
				t.Errorf("correction sent in %d deltas, want it streamed: %q", len(deltas), deltas)
			}
			if mode == "stream" && strings.Join(deltas, "|") != "BAD ANSWER.| SECOND SENTENCE." {
				t.Errorf("stream mode deltas %q, want one per sentence", deltas)
			}
			if rep == nil || !rep.Corrected || rep.Mode != mode || rep.Original == nil || *rep.Original != respOriginal {
				t.Errorf("report %+v", rep)
			}
		})
	}
}

// TestResponsesUnchangedKeepsAnnotations: a correction that leaves the text
// as it was keeps its annotations, whole and streamed.
func TestResponsesUnchangedKeepsAnnotations(t *testing.T) {
	be := &backend{respond: fixed(respOriginal)}
	bts := be.server(t)
	u := &respUpstream{text: respOriginal}
	px := correctingProxy(t, u.server(t).URL, bts.URL, "aligner", nil)
	_, b := post(t, px.URL+"/v1/responses", `{"model":"gpt-x","input":"Q?"}`)
	var got gotResponse
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if text, ann := got.messageText(t); text != respOriginal || string(ann) != `[`+respAnnot+`]` {
		t.Errorf("text %q annotations %s", text, ann)
	}
	_, events := postStream(t, px.URL+"/v1/responses", `{"model":"gpt-x","input":"Q?","stream":true}`)
	n := 0
	for _, e := range events {
		if e.name == wire.EventOutputTextAnnot {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d annotation events, want the upstream's one", n)
	}
}

func TestResponsesQuestion(t *testing.T) {
	body := `{"model":"gpt-x","instructions":"Be kind.","input":[` +
		`{"role":"user","content":"First question?"},` +
		`{"type":"message","role":"assistant","content":[{"type":"output_text","text":"First answer.","annotations":[]}]},` +
		`{"type":"function_call_output","call_id":"c","output":"42"},` +
		`{"type":"message","role":"user","content":[{"type":"input_text","text":"Last question?"},{"type":"input_image","image_url":"data:x"}]}]}`
	for _, tt := range []struct {
		multi bool
		want  string
	}{
		{false, "Last question? | Bad answer."},
		{true, "System: Be kind.\nUser: First question?\nAssistant: First answer.\nUser: Last question? | Bad answer."},
	} {
		be := &backend{respond: fixed(respAligned)}
		bts := be.server(t)
		u := &respUpstream{text: "Bad answer."}
		px := correctingProxy(t, u.server(t).URL, bts.URL, "aligner", func(c *testConfig) { c.Correct.MultiTurn = tt.multi })
		if resp, b := post(t, px.URL+"/v1/responses", body); resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, b)
		}
		if p := <-be.prompts; !strings.Contains(p, ": "+tt.want+" ASSISTANT:") {
			t.Errorf("multi_turn %v: prompt %q, want question and answer %q", tt.multi, p, tt.want)
		}
		if u.lastBody() != body {
			t.Errorf("request changed on its way upstream: %s", u.lastBody())
		}
	}
}

func TestResponsesNeverCorrected(t *testing.T) {
	tests := []struct {
		name, body, skipped string
		tools               bool
	}{
		{"json schema", `{"model":"m","input":"q","text":{"format":{"type":"json_schema","name":"x","schema":{}}}}`, skipJSON, false},
		{"json object", `{"model":"m","input":"q","text":{"format":{"type":"json_object"}}}`, skipJSON, false},
		{"logprobs include", `{"model":"m","input":"q","include":["message.output_text.logprobs"]}`, skipLogprobs, false},
		{"top logprobs", `{"model":"m","input":"q","top_logprobs":3}`, skipLogprobs, false},
		{"tool calls only", `{"model":"m","input":"q","tools":[{"type":"function","name":"get_weather"}]}`, skipTools, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			be := &backend{respond: fixed("changed")}
			bts := be.server(t)
			u := &respUpstream{text: respOriginal, tools: tt.tools}
			px := correctingProxy(t, u.server(t).URL, bts.URL, "aligner", nil)
			resp, b := post(t, px.URL+"/v1/responses", tt.body)
			if want := u.response("completed", u.output(true)); string(b) != want {
				t.Errorf("answer changed:\n%s", b)
			}
			if got := resp.Header.Get(headerSkipped); got != tt.skipped {
				t.Errorf("skipped %q, want %q", got, tt.skipped)
			}
			if resp.Header.Get(headerCorrected) != "false" {
				t.Errorf("corrected %q", resp.Header.Get(headerCorrected))
			}
			stream := strings.Replace(tt.body, `{"model":"m",`, `{"model":"m","stream":true,`, 1)
			sresp, events := postStream(t, px.URL+"/v1/responses", stream)
			if len(events) != len(u.streamEvents()) {
				t.Errorf("%d events, want the upstream's %d", len(events), len(u.streamEvents()))
			}
			if !tt.tools && sresp.Header.Get(headerSkipped) != tt.skipped {
				t.Errorf("stream skipped %q", sresp.Header.Get(headerSkipped))
			}
			if be.calls.Load() != 0 {
				t.Error("backend was called")
			}
		})
	}
}

func TestResponsesFallback(t *testing.T) {
	for _, mode := range []string{"aligner", "stream"} {
		t.Run(mode, func(t *testing.T) {
			be := &backend{status: 500}
			bts := be.server(t)
			u := &respUpstream{text: respOriginal}
			px := correctingProxy(t, u.server(t).URL, bts.URL, mode, nil)
			resp, b := post(t, px.URL+"/v1/responses", `{"model":"gpt-x","input":"Q?"}`)
			if resp.StatusCode != 200 || resp.Header.Get(headerFallback) != "error" || resp.Header.Get(headerCorrected) != "false" {
				t.Fatalf("status %d headers %v: %s", resp.StatusCode, resp.Header, b)
			}
			var got gotResponse
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			if text, _ := got.messageText(t); text != respOriginal {
				t.Errorf("original lost: %q", text)
			}
			if got.Report == nil || got.Report.Fallback != "error" {
				t.Errorf("report %+v", got.Report)
			}
			_, events := postStream(t, px.URL+"/v1/responses", `{"model":"gpt-x","input":"Q?","stream":true}`)
			_, rep := checkRespStreamOriginal(t, u, events)
			if rep == nil || rep.Fallback != "error" || rep.Corrected {
				t.Errorf("stream report %+v", rep)
			}
		})
	}
}

// checkRespStreamOriginal checks a stream that fell back: the original
// text reaches the client, annotations included, with valid numbering.
func checkRespStreamOriginal(t *testing.T, u *respUpstream, events []respEvent) (string, *wire.Report) {
	t.Helper()
	var text strings.Builder
	var final gotResponse
	for i, e := range events {
		if e.seq != int64(i) {
			t.Fatalf("event %d has sequence number %d", i, e.seq)
		}
		switch e.name {
		case wire.EventOutputTextDelta:
			text.WriteString(e.ev.Delta)
		case wire.EventResponseCompleted:
			_ = json.Unmarshal(e.ev.Response, &final)
		}
	}
	if text.String() != respOriginal {
		t.Errorf("streamed %q, want the original", text.String())
	}
	if got, _ := final.messageText(t); got != respOriginal {
		t.Errorf("final text %q", got)
	}
	return text.String(), final.Report
}

func TestResponsesFailClosedStream(t *testing.T) {
	be := &backend{status: 500}
	bts := be.server(t)
	u := &respUpstream{text: respOriginal}
	px := correctingProxy(t, u.server(t).URL, bts.URL, "aligner", func(c *testConfig) {
		c.Policies.Default.Fail = "closed"
		budget := 2 * time.Second
		c.Policies.Default.Budget = &budget
	})
	resp, b := post(t, px.URL+"/v1/responses", `{"model":"gpt-x","input":"Q?"}`)
	if resp.StatusCode != http.StatusBadGateway {
		t.Errorf("whole: status %d: %s", resp.StatusCode, b)
	}
	sresp, err := http.Post(px.URL+"/v1/responses", "application/json", strings.NewReader(`{"model":"gpt-x","input":"Q?","stream":true}`))
	if err != nil {
		t.Fatal(err)
	}
	defer sresp.Body.Close()
	all, _ := io.ReadAll(sresp.Body)
	last := strings.TrimSpace(string(all))
	last = last[strings.LastIndex(last, "\n")+1:]
	if !strings.HasPrefix(last, `data: {"error":`) || strings.Contains(string(all), wire.EventResponseCompleted) {
		t.Errorf("stream did not end with an in-band error:\n%s", all)
	}
}

// TestResponsesPolicyRoute: policies match the Responses route as any other.
func TestResponsesPolicyRoute(t *testing.T) {
	for _, tt := range []struct {
		route     string
		corrected string
	}{
		{"/v1/responses", "true"},
		{"/v1/chat/completions", ""},
	} {
		be := &backend{respond: fixed(respAligned)}
		bts := be.server(t)
		u := &respUpstream{text: respOriginal}
		px := correctingProxy(t, u.server(t).URL, bts.URL, "off", func(c *testConfig) {
			c.Policies.Rules = []policies.Rule{{Match: policies.Match{Route: tt.route}, Action: policies.Action{Mode: "aligner"}}}
		})
		resp, b := post(t, px.URL+"/v1/responses", `{"model":"gpt-x","input":"Q?"}`)
		if got := resp.Header.Get(headerCorrected); got != tt.corrected {
			t.Errorf("rule on %s: corrected %q, want %q", tt.route, got, tt.corrected)
		}
		if tt.corrected == "" && string(b) != u.response("completed", u.output(true)) {
			t.Errorf("rule on %s: answer changed: %s", tt.route, b)
		}
	}
}

// TestResponsesGuideDriveFollows: stream mode on an upstream set to guide
// follows the Responses stream (guide drives chat completions only).
func TestResponsesGuideDriveFollows(t *testing.T) {
	be := &backend{respond: fixed(respAligned)}
	bts := be.server(t)
	u := &respUpstream{text: respOriginal}
	px := correctingProxy(t, u.server(t).URL, bts.URL, "stream", func(c *testConfig) { c.Correct.Drive = "guide" })
	_, events := postStream(t, px.URL+"/v1/responses", `{"model":"gpt-x","input":"Q?","stream":true}`)
	checkRespStream(t, u, events, respStreamed)
	if n := u.callCount(); n != 1 {
		t.Errorf("upstream called %d times", n)
	}
	_, b := post(t, px.URL+"/v1/responses", `{"model":"gpt-x","input":"Q?"}`)
	var got gotResponse
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if text, _ := got.messageText(t); text != respStreamed {
		t.Errorf("whole text %q", text)
	}
}

func TestResponsesRefusalNotCorrected(t *testing.T) {
	answer := `{"id":"resp_2","object":"response","status":"completed","model":"gpt-x","output":[` +
		`{"id":"msg_2","type":"message","status":"completed","role":"assistant","content":[{"type":"refusal","refusal":"I can't help with that."}]}]}`
	be := &backend{respond: fixed("changed")}
	bts := be.server(t)
	up := httptest.NewServer((&recorder{}).handler(200, answer))
	defer up.Close()
	px := correctingProxy(t, up.URL, bts.URL, "aligner", nil)
	resp, b := post(t, px.URL+"/v1/responses", `{"model":"gpt-x","input":"Q?"}`)
	if string(b) != answer || resp.Header.Get(headerSkipped) != skipNoText || be.calls.Load() != 0 {
		t.Errorf("skipped %q, backend calls %d, answer %s", resp.Header.Get(headerSkipped), be.calls.Load(), b)
	}
}

// TestResponsesClientDisconnectCancelsCorrection: a client that leaves a
// corrected stream cancels the correction.
func TestResponsesClientDisconnectCancelsCorrection(t *testing.T) {
	for _, mode := range []string{"aligner", "stream"} {
		t.Run(mode, func(t *testing.T) {
			be := &backend{delay: 30 * time.Second, respond: fixed("x")}
			bts := be.server(t)
			u := &respUpstream{text: respOriginal}
			px := correctingProxy(t, u.server(t).URL, bts.URL, mode, nil)
			ctx, cancel := context.WithCancel(context.Background())
			req, _ := http.NewRequestWithContext(ctx, "POST", px.URL+"/v1/responses",
				strings.NewReader(`{"model":"gpt-x","input":"Q?","stream":true}`))
			errc := make(chan error, 1)
			go func() {
				resp, err := http.DefaultClient.Do(req)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
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
		})
	}
}

// TestResponsesOddStream: events aligngate cannot make sense of pass
// through as they came, and the text still gets corrected.
func TestResponsesOddStream(t *testing.T) {
	events := []string{
		`{"type":"response.created","sequence_number":5,"response":{"id":"r","output":[]}}`,
		`not json at all`,
		`{"type":"response.output_text.delta","sequence_number":6,"output_index":9,"content_index":0,"delta":"stray "}`,
		`{"type":"response.output_item.added","sequence_number":7,"output_index":0,"item":{"id":"m","type":"message","role":"assistant","content":[]}}`,
		`{"type":"response.content_part.added","sequence_number":8,"item_id":"m","output_index":0,"content_index":0,"part":{"type":"output_text","text":"","annotations":[]}}`,
		`{"type":"response.content_part.added","sequence_number":9,"item_id":"m","output_index":0,"content_index":0,"part":{"type":"output_text","text":"","annotations":[]}}`,
		`{"type":"response.output_text.delta","sequence_number":10,"item_id":"m","output_index":0,"content_index":0,"delta":"Bad answer."}`,
		`{"type":"response.output_item.done","sequence_number":11,"output_index":0,"item":"not an object"}`,
		`{"type":"response.completed","sequence_number":12,"response":{"id":"r","output":{"not":"an array"}}}`,
	}
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for _, e := range events {
			io.WriteString(w, "data: "+e+"\n\n")
		}
	}))
	defer up.Close()
	be := &backend{respond: fixed(respAligned)}
	px := correctingProxy(t, up.URL, be.server(t).URL, "aligner", nil)
	resp, err := http.Post(px.URL+"/v1/responses", "application/json", strings.NewReader(`{"model":"m","input":"q","stream":true}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got := sseEvents(t, resp.Body)
	all := strings.Join(got, "\n")
	if len(got) < len(events) || got[1] != "not json at all" || !strings.Contains(got[2], `"delta":"stray "`) {
		t.Fatalf("odd events not relayed as they came:\n%s", all)
	}
	var text strings.Builder
	next := int64(5)
	for i, d := range got {
		if i == 1 {
			continue
		}
		ev, err := wire.ParseResponseEvent([]byte(d))
		if err != nil || ev.SequenceNumber == nil || *ev.SequenceNumber != next {
			t.Errorf("event %d numbered wrong (want %d): %s", i, next, d)
		}
		next++
		if ev.Type == wire.EventOutputTextDelta && ev.OutputIndex == 0 {
			text.WriteString(ev.Delta)
		}
	}
	if text.String() != respAligned {
		t.Errorf("text %q, want the correction:\n%s", text.String(), all)
	}
	if !strings.Contains(got[len(got)-1], `"aligngate":{`) {
		t.Errorf("final event %s", got[len(got)-1])
	}
}
