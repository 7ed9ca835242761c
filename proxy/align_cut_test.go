package proxy

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestAlignerStreamCutServesWhatArrived: when the upstream fails
// mid-stream in aligner mode, the client gets the text that arrived (the
// original, uncorrected) and then the error, as off mode does, rather
// than the error alone.
func TestAlignerStreamCutServesWhatArrived(t *testing.T) {
	be := &backend{respond: fixed("Corrected.")}
	bts := be.server(t)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for _, piece := range []string{"The first ", "half of an ", "answer"} {
			b, _ := json.Marshal(piece)
			fmt.Fprintf(w, `data: {"id":"s1","object":"chat.completion.chunk","created":9,"model":"m","choices":[{"index":0,"delta":{"content":%s},"finish_reason":null}]}`+"\n\n", b)
		}
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // the upstream connection is cut
	}))
	defer up.Close()
	px := correctingProxy(t, up.URL, bts.URL, "aligner", nil)
	resp, err := http.Post(px.URL+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"model":"m","stream":true,"messages":[{"role":"user","content":"Q?"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var content strings.Builder
	events := sseEvents(t, resp.Body)
	for i, ev := range events {
		var ch gotChunk
		if ev == "[DONE]" || json.Unmarshal([]byte(ev), &ch) != nil {
			t.Fatalf("unexpected event %q", ev)
		}
		if len(ch.Error) > 0 && string(ch.Error) != "null" {
			if i != len(events)-1 {
				t.Fatalf("events after the error: %q", events)
			}
			continue
		}
		for _, c := range ch.Choices {
			if c.Delta.Content != nil {
				content.WriteString(*c.Delta.Content)
			}
		}
	}
	if content.String() != "The first half of an answer" {
		t.Errorf("client got %q of the answer that arrived", content.String())
	}
	if len(events) == 0 || !strings.Contains(events[len(events)-1], `"error"`) {
		t.Errorf("the stream did not end with the error: %q", events)
	}
	if n := be.calls.Load(); n != 0 {
		t.Errorf("%d backend calls for an answer that never finished", n)
	}
}
