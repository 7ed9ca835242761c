package main

import (
	"bufio"
	"encoding/json"
	"net/http"
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
