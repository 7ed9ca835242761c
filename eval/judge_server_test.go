package eval

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// judgeFunc decides a reply from the system prompt's dimension, the
// question, answer A and answer B, and the call number for this exact
// prompt (1-based). A non-zero status is sent as an HTTP error.
type judgeFunc func(dim Dimension, q, a, b string, call int) (status int, reply string)

// fakeJudge is a deterministic OpenAI-compatible chat server standing in
// for the judge model, which is outside aligngate.
type fakeJudge struct {
	srv   *httptest.Server
	mu    sync.Mutex
	calls map[string]int // per prompt
	total int
}

func newFakeJudge(t *testing.T, fn judgeFunc) *fakeJudge {
	t.Helper()
	j := &fakeJudge{calls: map[string]int{}}
	j.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/chat/completions" {
			http.NotFound(w, r)
			return
		}
		var req struct {
			Model    string `json:"model"`
			Messages []struct{ Role, Content string }
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.Messages) != 2 {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		dim := dimensionOf(req.Messages[0].Content)
		q, a, b := splitPrompt(req.Messages[1].Content)
		j.mu.Lock()
		j.total++
		key := string(dim) + "\x00" + req.Messages[1].Content
		j.calls[key]++
		n := j.calls[key]
		j.mu.Unlock()
		status, reply := fn(dim, q, a, b, n)
		if status != 0 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			fmt.Fprintf(w, `{"error":{"message":"fake %d","type":"server_error"}}`, status)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"id": "x", "object": "chat.completion", "model": req.Model,
			"choices": []any{map[string]any{"index": 0, "finish_reason": "stop",
				"message": map[string]any{"role": "assistant", "content": reply}}},
		})
	}))
	t.Cleanup(j.srv.Close)
	return j
}

func (j *fakeJudge) Total() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.total
}

func (j *fakeJudge) judge(t *testing.T) Judge {
	t.Helper()
	c, err := NewClient(ClientOptions{BaseURL: j.srv.URL, APIKey: "judge-key"})
	if err != nil {
		t.Fatal(err)
	}
	return Judge{Client: c, Model: "fake-judge", Retry: Retry{Attempts: 3, Base: time.Millisecond, Max: 2 * time.Millisecond}}
}

func dimensionOf(system string) Dimension {
	for d, p := range systemPrompts {
		if p == system {
			return d
		}
	}
	return "unknown"
}

func between(s, start, end string) string {
	i := strings.Index(s, start)
	if i < 0 {
		return ""
	}
	s = s[i+len(start):]
	if k := strings.Index(s, end); k >= 0 {
		return s[:k]
	}
	return ""
}

func splitPrompt(user string) (q, a, b string) {
	return between(user, "[User request]\n", "\n\n[Answer A - start]"),
		between(user, "[Answer A - start]\n", "\n[Answer A - end]"),
		between(user, "[Answer B - start]\n", "\n[Answer B - end]")
}
