package passthrough

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// chatChunk is the subset of an OpenAI chat completion (chunk) the tests read.
type chatChunk struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Choices []struct {
		Message      *struct{ Role, Content string } `json:"message"`
		Delta        *struct{ Role, Content string } `json:"delta"`
		FinishReason *string                         `json:"finish_reason"`
	} `json:"choices"`
	Usage *struct {
		CompletionTokens int `json:"completion_tokens"`
	} `json:"usage"`
}

func post(t *testing.T, url string, body string) *http.Response {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// readStream parses an SSE chat completion stream and returns the
// concatenated content, the chunk count and whether [DONE] ended it.
func readStream(t *testing.T, r io.Reader) (content string, chunks int, done bool) {
	t.Helper()
	sc := bufio.NewScanner(r)
	var b strings.Builder
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		if done {
			t.Fatalf("event after [DONE]: %q", data)
		}
		if data == "[DONE]" {
			done = true
			continue
		}
		var c chatChunk
		if err := json.Unmarshal([]byte(data), &c); err != nil {
			t.Fatalf("chunk %q: %v", data, err)
		}
		if c.ID != MockID || c.Object != "chat.completion.chunk" {
			t.Fatalf("chunk id/object = %q/%q", c.ID, c.Object)
		}
		chunks++
		b.WriteString(c.Choices[0].Delta.Content)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("reading stream: %v", err)
	}
	return b.String(), chunks, done
}

func TestMockNonStream(t *testing.T) {
	srv := httptest.NewServer(NewMock(MockOptions{Chunks: 5}))
	defer srv.Close()
	resp := post(t, srv.URL+"/v1/chat/completions", string(RequestBody(ModeJSON, 0)))
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, content type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var c chatChunk
	if err := json.NewDecoder(resp.Body).Decode(&c); err != nil {
		t.Fatal(err)
	}
	want := strings.Join(MockDeltas(5), "")
	if c.ID != MockID || c.Object != "chat.completion" || c.Choices[0].Message.Content != want {
		t.Fatalf("got id %q object %q content %q, want content %q", c.ID, c.Object, c.Choices[0].Message.Content, want)
	}
	if c.Usage == nil || c.Usage.CompletionTokens != 5 {
		t.Fatalf("usage = %+v", c.Usage)
	}
}

func TestMockStream(t *testing.T) {
	srv := httptest.NewServer(NewMock(MockOptions{Chunks: 7}))
	defer srv.Close()
	resp := post(t, srv.URL+"/v1/chat/completions", string(RequestBody(ModeStream, 0)))
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	content, chunks, done := readStream(t, resp.Body)
	if want := strings.Join(MockDeltas(7), ""); content != want {
		t.Errorf("content %q, want %q", content, want)
	}
	if chunks != 8 || !done { // 7 deltas + the finish chunk
		t.Errorf("chunks %d done %v, want 8 and true", chunks, done)
	}
}

func TestMockRejectsOtherRoutes(t *testing.T) {
	srv := httptest.NewServer(NewMock(MockOptions{}))
	defer srv.Close()
	if resp := post(t, srv.URL+"/v1/embeddings", "{}"); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("status %d, want 404", resp.StatusCode)
	}
	resp, err := http.Get(srv.URL + "/v1/chat/completions")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("GET status %d, want 404", resp.StatusCode)
	}
}

func TestIsStream(t *testing.T) {
	for _, tc := range []struct {
		body string
		want bool
	}{
		{`{"model":"m","stream":true}`, true},
		{`{"model":"m", "stream": true}`, true},
		{`{"model":"m","stream":false}`, false},
		{`{"model":"m"}`, false},
		{string(RequestBody(ModeStream, 0)), true},
		{string(RequestBody(ModeJSON, 0)), false},
	} {
		if got := isStream([]byte(tc.body)); got != tc.want {
			t.Errorf("isStream(%s) = %v, want %v", tc.body, got, tc.want)
		}
	}
}
