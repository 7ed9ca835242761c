package proxy

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestFollowUpstreamFailureStopsCorrections: when the upstream fails
// mid-stream in follow mode, the correction in flight is cancelled, no
// backend call starts after the failure, and nothing follows the error
// event.
func TestFollowUpstreamFailureStopsCorrections(t *testing.T) {
	be := &backend{respond: fixed("unused"), delay: 5 * time.Second}
	bts := be.server(t)
	var atFailure atomic.Int32
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for _, s := range []string{"One is first. ", "Two is next. ", "Three is third. ", "Four is last. ", "Five"} {
			b, _ := json.Marshal(s)
			fmt.Fprintf(w, `data: {"id":"s1","object":"chat.completion.chunk","created":9,"model":"m","choices":[{"index":0,"delta":{"content":%s},"finish_reason":null}]}`+"\n\n", b)
		}
		w.(http.Flusher).Flush()
		<-be.prompts // the first sentence's correction is under way, the others queued
		atFailure.Store(be.calls.Load())
		panic(http.ErrAbortHandler) // the upstream connection is cut
	}))
	defer up.Close()
	px := correctingProxy(t, up.URL, bts.URL, "stream", nil)
	resp, err := http.Post(px.URL+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"model":"m","stream":true,"messages":[{"role":"user","content":"Count."}]}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	events := sseEvents(t, resp.Body)
	select {
	case <-be.gone:
	case <-time.After(30 * time.Second): // a safety net, not an assertion
		t.Fatal("the correction in flight was not cancelled")
	}
	if got, want := be.calls.Load(), atFailure.Load(); got != want {
		t.Errorf("%d backend calls, %d when the upstream failed: calls started after the failure", got, want)
	}
	errAt := -1
	for i, ev := range events {
		var ch gotChunk
		if ev == "[DONE]" {
			t.Errorf("[DONE] after an upstream failure: %q", events)
		}
		if json.Unmarshal([]byte(ev), &ch) != nil {
			continue
		}
		if len(ch.Error) > 0 && string(ch.Error) != "null" {
			errAt = i
			continue
		}
		if errAt >= 0 {
			t.Errorf("event %q sent after the error event", ev)
		}
	}
	if errAt != len(events)-1 {
		t.Fatalf("the stream did not end with the error event: %q", events)
	}
}
