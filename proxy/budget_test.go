package proxy

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestStreamModeHugeAnswerWithinBudget: in stream mode a 10 MiB answer to a
// non-stream client is corrected until the answer's budget runs out, then
// passes uncorrected: the client gets a 200 with the whole answer, the
// fallback says budget, and no backend call outlives the request.
func TestStreamModeHugeAnswerWithinBudget(t *testing.T) {
	bts, up, calls, answer := hugeAnswerServers(t, 0)
	px := correctingProxy(t, up.URL, bts.URL, "stream", func(c *testConfig) {
		c.Correct.Budget.Answer = 2 * time.Second
		c.Server.MaxBodyBytes = 64 << 20
	})
	resp, b := post(t, px.URL+"/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"Say it."}]}`)
	n := calls.Load()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %.300s", resp.StatusCode, b)
	}
	if got := resp.Header.Get(headerFallback); got != "budget" {
		t.Errorf("%s %q, want budget", headerFallback, got)
	}
	var out struct {
		Choices []struct {
			Message struct {
				Content string `json:"content"`
			} `json:"message"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(b, &out); err != nil || len(out.Choices) != 1 {
		t.Fatalf("answer: %v", err)
	}
	got := out.Choices[0].Message.Content
	if len(got) != len(answer) || !strings.EqualFold(got, answer) {
		t.Fatalf("the answer came back with %d bytes of %d, or changed beyond its corrected sentences", len(got), len(answer))
	}
	if !strings.HasPrefix(got, "THIS SENTENCE") || !strings.HasSuffix(got, "This sentence is long enough. ") {
		t.Errorf("want the first sentences corrected and the rest as the upstream wrote them")
	}
	if n == 0 || int(n) >= strings.Count(answer, ".") {
		t.Errorf("%d backend calls", n)
	}
	px.Close()
	if later := calls.Load(); later != n {
		t.Errorf("%d backend calls after the answer was sent", later-n)
	}
}

// TestStreamModeClientLeavesStopsBackend: a client that leaves while a
// 10 MiB answer is being corrected sentence by sentence (budget far away)
// stops the backend calls: none starts more than 1 s after it left.
func TestStreamModeClientLeavesStopsBackend(t *testing.T) {
	bts, up, calls, answer := hugeAnswerServers(t, 5*time.Millisecond) // a backend takes time per sentence
	px := correctingProxy(t, up.URL, bts.URL, "stream", func(c *testConfig) {
		c.Correct.Budget.Answer = 10 * time.Minute
		c.Server.MaxBodyBytes = 64 << 20
	})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, px.URL+"/v1/chat/completions",
			strings.NewReader(`{"model":"m","messages":[{"role":"user","content":"Say it."}]}`))
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			res.Body.Close()
		}
		done <- err
	}()
	for calls.Load() < 5 {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err == nil {
		t.Fatal("the request finished before the client left: make the answer longer")
	}
	time.Sleep(time.Second)
	left := calls.Load()
	time.Sleep(time.Second)
	if later := calls.Load(); later != left {
		t.Errorf("%d backend calls started more than 1 s after the client left", later-left)
	}
	if int(left) >= strings.Count(answer, ".") {
		t.Errorf("every sentence was corrected (%d calls): the client's leaving stopped nothing", left)
	}
}

// hugeAnswerServers starts an upstream answering a 10 MiB chat completion
// of short sentences and a correction backend (upper-casing, after delay)
// counting its calls.
func hugeAnswerServers(t *testing.T, delay time.Duration) (backend, upstream *httptest.Server, calls *atomic.Int32, answer string) {
	t.Helper()
	calls = new(atomic.Int32)
	backend = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		var req struct {
			Prompt string `json:"prompt"`
		}
		json.NewDecoder(r.Body).Decode(&req)
		time.Sleep(delay)
		w.Header().Set("Content-Type", "text/event-stream")
		text, _ := json.Marshal(fixed("unused")(req.Prompt))
		fmt.Fprintf(w, "data: {\"choices\":[{\"text\":%s,\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n", text)
	}))
	t.Cleanup(backend.Close)
	answer = strings.Repeat("This sentence is long enough. ", (10<<20)/30)
	content, _ := json.Marshal(answer)
	body := `{"id":"c1","object":"chat.completion","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":` +
		string(content) + `},"finish_reason":"stop"}]}`
	upstream = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, body)
	}))
	t.Cleanup(upstream.Close)
	return backend, upstream, calls, answer
}
