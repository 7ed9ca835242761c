package correct

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// sseServer serves /v1/completions with handler and records requests.
type sseServer struct {
	*httptest.Server
	bodies  chan map[string]any
	headers chan http.Header
}

func newSSEServer(t *testing.T, handler func(w http.ResponseWriter, r *http.Request)) *sseServer {
	t.Helper()
	s := &sseServer{bodies: make(chan map[string]any, 10), headers: make(chan http.Header, 10)}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/completions" || r.Method != http.MethodPost {
			http.NotFound(w, r)
			return
		}
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.bodies <- body
		s.headers <- r.Header.Clone()
		handler(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// streamChunks writes the texts as completion events, then a finish, usage
// and [DONE].
func streamChunks(texts ...string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for _, tx := range texts {
			b, _ := json.Marshal(map[string]any{"choices": []map[string]any{{"text": tx, "finish_reason": nil}}})
			fmt.Fprintf(w, "data: %s\n\n", b)
			w.(http.Flusher).Flush()
		}
		fmt.Fprint(w, ": keep-alive comment\n\n")
		fmt.Fprint(w, `data: {"choices":[{"text":"","finish_reason":"stop"}]}`+"\n\n")
		fmt.Fprint(w, `data: {"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":3}}`+"\n\n")
		fmt.Fprint(w, "data: [DONE]\n\n")
	}
}

func newTestRemote(t *testing.T, url string, inject func(context.Context, http.Header)) *Remote {
	t.Helper()
	r, err := NewRemote(RemoteConfig{BaseURL: url, APIKey: "sk-test", Model: "aligner-7b"}, &http.Client{}, inject)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRemoteGenerate(t *testing.T) {
	srv := newSSEServer(t, streamChunks(" Hello", " world", "."))
	inject := func(_ context.Context, h http.Header) { h.Set("Traceparent", "00-abc-def-01") }
	for _, base := range []string{srv.URL, srv.URL + "/v1", srv.URL + "/v1/"} {
		m := newTestRemote(t, base, inject)
		var pieces []string
		res, err := m.Generate(context.Background(), "PROMPT", Params{MaxTokens: 42, Temperature: 0, Stop: []string{"</s>"}},
			func(p string) error { pieces = append(pieces, p); return nil })
		if err != nil {
			t.Fatalf("%s: %v", base, err)
		}
		if res.Text != " Hello world." || strings.Join(pieces, "|") != " Hello| world|." || res.FinishReason != "stop" ||
			res.PromptTokens != 7 || res.CompletionTokens != 3 {
			t.Errorf("%s: result %+v pieces %q", base, res, pieces)
		}
		body, hdr := <-srv.bodies, <-srv.headers
		want := map[string]any{"model": "aligner-7b", "prompt": "PROMPT", "max_tokens": float64(42), "temperature": float64(0), "stream": true}
		for k, v := range want {
			if body[k] != v {
				t.Errorf("body[%s] = %v, want %v", k, body[k], v)
			}
		}
		if stop, _ := body["stop"].([]any); len(stop) != 1 || stop[0] != "</s>" {
			t.Errorf("stop %v", body["stop"])
		}
		if _, ok := body["top_k"]; ok {
			t.Error("unset top_k sent")
		}
		if hdr.Get("Authorization") != "Bearer sk-test" || hdr.Get("Traceparent") != "00-abc-def-01" {
			t.Errorf("headers %v", hdr)
		}
	}
	if id := newTestRemote(t, srv.URL, nil).ModelID(); !strings.Contains(id, "aligner-7b") || !strings.Contains(id, srv.URL) {
		t.Errorf("ModelID %q", id)
	}
}

func TestRemoteCancel(t *testing.T) {
	cancelled := make(chan struct{})
	srv := newSSEServer(t, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `data: {"choices":[{"text":"first"}]}`+"\n\n")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		close(cancelled)
	})
	m := newTestRemote(t, srv.URL, nil)
	ctx, cancel := context.WithCancel(context.Background())
	_, err := m.Generate(ctx, "p", Params{MaxTokens: 5}, func(string) error {
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err %v, want context.Canceled", err)
	}
	<-cancelled // the server saw the request end
}

func TestRemoteErrors(t *testing.T) {
	tests := []struct {
		name    string
		handler func(http.ResponseWriter, *http.Request)
		is      error
	}{
		{"500", func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "kaput", http.StatusInternalServerError) }, nil},
		{"429", func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "slow down", http.StatusTooManyRequests) }, ErrBusy},
		{"503", func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "loading", http.StatusServiceUnavailable) }, ErrBusy},
		{"context", func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, `{"error":"the request exceeds the available context size"}`, http.StatusBadRequest)
		}, ErrTooLong},
		{"garbage", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "data: {not json\n\n") }, ErrBadStream},
		{"truncated", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, `data: {"choices":[{"text":"x"}]}`+"\n\n") }, ErrBadStream},
		{"in-band error", func(w http.ResponseWriter, _ *http.Request) {
			fmt.Fprint(w, `data: {"error":{"message":"oom"}}`+"\n\n")
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newSSEServer(t, tt.handler)
			_, err := newTestRemote(t, srv.URL, nil).Generate(context.Background(), "p", Params{MaxTokens: 5}, nil)
			if err == nil || tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("err %v, want %v", err, tt.is)
			}
			if tt.is == nil && (errors.Is(err, ErrBusy) || errors.Is(err, ErrTooLong)) {
				t.Errorf("err %v misclassified", err)
			}
		})
	}
}

func TestNewRemoteValidates(t *testing.T) {
	for _, cfg := range []RemoteConfig{{}, {BaseURL: "ftp://x", Model: "m"}, {BaseURL: "http://x"}} {
		if _, err := NewRemote(cfg, &http.Client{}, nil); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
	if _, err := NewRemote(RemoteConfig{BaseURL: "http://x", Model: "m"}, nil, nil); err == nil {
		t.Error("nil client accepted")
	}
}

func TestAlignWithRemote(t *testing.T) {
	srv := newSSEServer(t, streamChunks(" Better", " answer.", "</s>"))
	c, err := New(Config{Backend: BackendRemote, Remote: RemoteConfig{BaseURL: srv.URL, Model: "m"}},
		map[string]Model{BackendRemote: newTestRemote(t, srv.URL, nil)}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got collector
	out, err := c.Align(context.Background(), Request{Question: "q", Answer: "bad answer"}, got.emit)
	if err != nil || out.Text != "Better answer." || got.text() != out.Text || out.TokensIn != 7 {
		t.Fatalf("%+v %v %q", out, err, got.text())
	}
}

func FuzzSSE(f *testing.F) {
	f.Add("data: {\"choices\":[{\"text\":\"a\"}]}\n\ndata: [DONE]\n")
	f.Add("data:{\"choices\":[{\"text\":\"a\",\"finish_reason\":\"stop\"}]}\n")
	f.Add("event: x\nid: 1\n: c\ndata: {\"choices\":null}\n")
	f.Add("data: {\"error\":null,\"choices\":[]}\r\ndata: [DONE]\r\n")
	f.Add("data: {\"usage\":{\"prompt_tokens\":1}}\n")
	f.Fuzz(func(t *testing.T, body string) {
		var pieces strings.Builder
		res, err := readStream(strings.NewReader(body), func(p string) error {
			pieces.WriteString(p)
			return nil
		})
		if err == nil && res.Text != pieces.String() {
			t.Fatalf("text %q != pieces %q", res.Text, pieces.String())
		}
		if err == nil && res.FinishReason == "" && !strings.Contains(body, "[DONE]") {
			t.Fatalf("accepted a stream without end: %q", body)
		}
	})
}
