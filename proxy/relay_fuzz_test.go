package proxy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/aligngate/aligngate/correct"
	"github.com/aligngate/aligngate/policies"
	"github.com/aligngate/aligngate/wire"
)

// sseUpstream answers every call with body as an event stream, cut by an
// error after it when cut is set.
type sseUpstream struct {
	body []byte
	cut  bool
}

func (u sseUpstream) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
	}
	var body io.Reader = bytes.NewReader(u.body)
	if u.cut {
		body = io.MultiReader(body, iotest.ErrReader(io.ErrUnexpectedEOF))
	}
	return &http.Response{
		StatusCode: 200, Header: http.Header{"Content-Type": {"text/event-stream"}},
		Body: io.NopCloser(body), ContentLength: -1, Request: r,
	}, nil
}

// fixedModel corrects everything to one sentence.
type fixedModel struct{}

func (fixedModel) Generate(_ context.Context, _ string, _ correct.Params, onToken func(string) error) (correct.Result, error) {
	const text = "Fixed."
	if onToken != nil {
		if err := onToken(text); err != nil {
			return correct.Result{}, err
		}
	}
	return correct.Result{Text: text, FinishReason: "stop"}, nil
}

// fuzzServer is a proxy in mode whose upstream answers with up.
func fuzzServer(t *testing.T, mode string, up http.RoundTripper) http.Handler {
	cfg := defaultTestConfig()
	cfg.Upstreams = []Upstream{{Name: "fuzz", BaseURL: "http://upstream.invalid/v1"}}
	cfg.Policies.Default.Mode = mode
	cfg.Correct.Backend = correct.BackendRemote
	cfg.Correct.Remote.BaseURL = "http://backend.invalid/v1" // never dialled: the model is a fake
	cfg.Correct.Remote.Model = "aligner"
	cfg.SetDefaults()
	cor, err := correct.New(cfg.Correct, map[string]correct.Model{correct.BackendRemote: fixedModel{}}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(&cfg.Config, Options{Transport: up, Policies: policies.NewEngine(&cfg.Policies), Corrector: cor, Correction: cfg.settings()})
	if err != nil {
		t.Fatal(err)
	}
	return s.Handler()
}

// serveStream sends one streamed chat request through h.
func serveStream(t *testing.T, h http.Handler) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/v1/chat/completions",
		strings.NewReader(`{"model":"m","stream":true,"messages":[{"role":"user","content":"q"}]}`))
	req.Header.Set("Content-Type", "application/json")
	defer func() {
		if v := recover(); v != nil && v != http.ErrAbortHandler { //nolint:errorlint // as net/http compares it
			t.Fatalf("panic: %v", v)
		}
	}()
	h.ServeHTTP(rec, req)
	return rec
}

// events reads every event of an SSE body: their data and whether [DONE]
// ended them.
func events(t *testing.T, b []byte) (data [][]byte, done bool) {
	t.Helper()
	r := wire.NewSSEReader(bytes.NewReader(b))
	for {
		d, err := r.Next()
		switch {
		case errors.Is(err, wire.ErrDone):
			return data, true
		case errors.Is(err, io.EOF):
			return data, false
		case err != nil:
			t.Fatalf("the proxy wrote an unreadable event stream (%v): %q", err, b)
		}
		data = append(data, append([]byte(nil), d...))
	}
}

func isErrorEvent(d []byte) bool {
	var e struct {
		Error *struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	return json.Unmarshal(d, &e) == nil && e.Error != nil && e.Error.Message != ""
}

// FuzzRelaySSE feeds arbitrary upstream event streams, whole or cut,
// through the proxy in modes off, aligner and stream. Off relays the
// bytes exactly and reports a cut in-band; the correcting modes write a
// readable stream that ends with [DONE] (nothing after it) or with one
// error event, and every event of theirs that is not their own JSON is an
// upstream event relayed intact.
func FuzzRelaySSE(f *testing.F) {
	f.Add([]byte("data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi. There.\"}}]}\n\ndata: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n"), false)
	f.Add([]byte("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"A```\\ncode. x\\n```\"}}]}\n\n"), true)
	f.Add([]byte("data: not json\ndata: second line\n\ndata: [DONE]\n\n"), false)
	f.Add([]byte(": comment\nevent: x\ndata: {\"choices\":[{\"index\":1,\"delta\":{\"tool_calls\":[]}}]}\r\n\r\n"), false)
	f.Add([]byte("data: {\"choices\":[],\"usage\":{\"total_tokens\":3}}\n\ndata: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}"), true)
	f.Add([]byte("data:"), true)
	f.Fuzz(func(t *testing.T, body []byte, cut bool) {
		up := sseUpstream{body: body, cut: cut}
		off := serveStream(t, fuzzServer(t, "off", up)).Body.Bytes()
		if !bytes.HasPrefix(off, body) {
			t.Fatalf("off mode changed the upstream's bytes:\n in %q\nout %q", body, off)
		}
		if rest := off[len(body):]; cut {
			evs, done := events(t, rest)
			if done || len(evs) != 1 || !isErrorEvent(evs[0]) {
				t.Fatalf("off mode did not report the cut in-band: %q", rest)
			}
		} else if len(rest) != 0 {
			t.Fatalf("off mode added %q to a whole stream", rest)
		}
		in, _ := events(t, body)
		for _, mode := range []string{"aligner", "stream"} {
			out := serveStream(t, fuzzServer(t, mode, up)).Body.Bytes()
			checkCorrectedStream(t, mode, in, out, cut)
		}
	})
}

func checkCorrectedStream(t *testing.T, mode string, in [][]byte, out []byte, cut bool) {
	t.Helper()
	evs, done := events(t, out)
	if done {
		// [DONE] is the last event: without its final bytes the
		// stream reads the same events and no [DONE].
		before, ok := bytes.CutSuffix(out, []byte("data: [DONE]\n\n"))
		evs2, done2 := events(t, before)
		if !ok || done2 || len(evs2) != len(evs) {
			t.Fatalf("%s: bytes after [DONE]: %q", mode, out)
		}
	}
	errs := 0
	for _, d := range evs {
		if isErrorEvent(d) {
			errs++
			continue
		}
		if json.Valid(d) && bytes.Contains(d, []byte(`"chat.completion.chunk"`)) {
			continue // the proxy's own chunk
		}
		if !containsEvent(in, d) {
			t.Fatalf("%s: event %q is neither the proxy's nor an upstream event relayed intact; upstream events %q", mode, d, in)
		}
	}
	switch {
	case done && errs > 0:
		t.Fatalf("%s: an error event and [DONE]: %q", mode, out)
	case !done && (errs != 1 || !isErrorEvent(evs[len(evs)-1])):
		t.Fatalf("%s: the stream ended with neither [DONE] nor one final error event: %q", mode, out)
	case cut && done && !bytes.Contains(out, []byte("[DONE]")):
		t.Fatalf("%s: a cut stream ended clean", mode)
	}
}

func containsEvent(in [][]byte, d []byte) bool {
	for _, e := range in {
		if bytes.Equal(e, d) {
			return true
		}
	}
	return false
}
