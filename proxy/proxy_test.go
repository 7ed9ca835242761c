package proxy

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.ReleaseMode)
	goleak.VerifyTestMain(m)
}

// newProxy starts a proxy in front of upstreamURL; edit adjusts the config.
func newProxy(t *testing.T, upstreamURL string, edit func(*testConfig)) *httptest.Server {
	t.Helper()
	noLeaks(t)
	cfg := defaultTestConfig()
	cfg.Upstreams = []Upstream{{Name: "test", BaseURL: upstreamURL + "/v1"}}
	if edit != nil {
		edit(cfg)
	}
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	s, err := New(&cfg.Config, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() { _ = s.Close() })
	t.Cleanup(ts.Close)
	return ts
}

// recorder is a fake upstream that records what reached it.
type recorder struct {
	mu     sync.Mutex
	calls  int
	body   []byte
	header http.Header
	path   string
}

func (r *recorder) handler(status int, resp string) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.calls++
		r.body, _ = io.ReadAll(req.Body)
		r.header = req.Header.Clone()
		r.path = req.URL.RequestURI()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, resp)
	}
}

type errorBody struct {
	Error struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    *string `json:"code"`
	} `json:"error"`
}

func decodeError(t *testing.T, b []byte) errorBody {
	t.Helper()
	var e errorBody
	if err := json.Unmarshal(b, &e); err != nil || e.Error.Message == "" || e.Error.Type == "" {
		t.Fatalf("not an OpenAI error body: %s (%v)", b, err)
	}
	return e
}

func post(t *testing.T, url, body string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

const okChat = `{"id":"c1","object":"chat.completion","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}]}`

func TestRequestErrors(t *testing.T) {
	rec := &recorder{}
	up := httptest.NewServer(rec.handler(200, okChat))
	defer up.Close()
	px := newProxy(t, up.URL, func(c *testConfig) { c.Server.MaxBodyBytes = 1024 })

	tests := []struct {
		name, path, body string
		status           int
		param, code      string
	}{
		{"malformed JSON", "/v1/chat/completions", `{"model":`, 400, "", "invalid_json"},
		{"not an object", "/v1/chat/completions", `[1,2]`, 400, "", "invalid_json"},
		{"empty body", "/v1/chat/completions", ``, 400, "", "invalid_json"},
		{"missing model", "/v1/chat/completions", `{"messages":[]}`, 400, "model", "missing_required_parameter"},
		{"null model", "/v1/chat/completions", `{"model":null,"messages":[]}`, 400, "model", "missing_required_parameter"},
		{"model not a string", "/v1/chat/completions", `{"model":7,"messages":[]}`, 400, "model", "invalid_type"},
		{"missing messages", "/v1/chat/completions", `{"model":"m"}`, 400, "messages", "missing_required_parameter"},
		{"messages not array", "/v1/chat/completions", `{"model":"m","messages":"hi"}`, 400, "messages", "invalid_type"},
		{"completions missing model", "/v1/completions", `{"prompt":"x"}`, 400, "model", "missing_required_parameter"},
		{"body over limit", "/v1/chat/completions", `{"model":"m","messages":[],"x":"` + strings.Repeat("a", 2000) + `"}`, 413, "", "request_too_large"},
		{"unknown route", "/nope", `{}`, 404, "", "unknown_url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := rec.calls
			resp, b := post(t, px.URL+tt.path, tt.body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, b)
			}
			e := decodeError(t, b)
			if tt.code != "" && (e.Error.Code == nil || *e.Error.Code != tt.code) {
				t.Errorf("code %v, want %q", e.Error.Code, tt.code)
			}
			if tt.param != "" && (e.Error.Param == nil || *e.Error.Param != tt.param) {
				t.Errorf("param %v, want %q", e.Error.Param, tt.param)
			}
			if rec.calls != before {
				t.Errorf("upstream was called for a bad request")
			}
		})
	}
}

func TestBodyOverLimitWithoutContentLength(t *testing.T) {
	up := httptest.NewServer((&recorder{}).handler(200, okChat))
	defer up.Close()
	px := newProxy(t, up.URL, func(c *testConfig) { c.Server.MaxBodyBytes = 100 })
	// A pipe hides the length, so the body is sent chunked.
	pr, pw := io.Pipe()
	go func() {
		pw.Write([]byte(`{"model":"m","messages":[],"pad":"` + strings.Repeat("x", 500) + `"}`))
		pw.Close()
	}()
	resp, err := http.Post(px.URL+"/v1/chat/completions", "application/json", pr)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 413 {
		t.Fatalf("status %d, want 413", resp.StatusCode)
	}
}

func TestUpstreamErrors(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()

	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // so the server notices the proxy hanging up
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	defer slow.Close()

	upErr := `{"error":{"message":"bad key","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`
	failing := httptest.NewServer((&recorder{}).handler(401, upErr))
	defer failing.Close()

	tests := []struct {
		name   string
		url    string
		edit   func(*testConfig)
		status int
		body   string // exact body expected, if set
	}{
		{"unreachable", closedURL, nil, 502, ""},
		{"first byte timeout", slow.URL, func(c *testConfig) { c.Timeouts.FirstByte = 100 * time.Millisecond }, 504, ""},
		{"total timeout", slow.URL, func(c *testConfig) { c.Timeouts.Total = 100 * time.Millisecond }, 504, ""},
		{"upstream error passed through", failing.URL, nil, 401, upErr},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			px := newProxy(t, tt.url, tt.edit)
			resp, b := post(t, px.URL+"/v1/chat/completions", `{"model":"m","messages":[]}`)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, b)
			}
			if tt.body != "" {
				if string(b) != tt.body {
					t.Fatalf("body %s, want %s", b, tt.body)
				}
				return
			}
			decodeError(t, b)
		})
	}
}

func TestFidelityUnknownFieldsByteIdentical(t *testing.T) {
	rec := &recorder{}
	up := httptest.NewServer(rec.handler(200, okChat))
	defer up.Close()
	px := newProxy(t, up.URL, nil)
	body := `{"model":"gpt-x",  "messages":[{"role":"user","content":"h\u00e9 \"q\""}],` +
		`"reasoning_effort":"high","tools":[{"type":"function","function":{"name":"f","parameters":{}}}],` +
		`"response_format":{"type":"json_object"},"x_vendor":{"n":1.50e3}}`
	req, _ := http.NewRequest("POST", px.URL+"/v1/chat/completions?api-version=2", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer client-key")
	req.Header.Set("Traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	req.Header.Set("Connection", "keep-alive, X-Hop")
	req.Header.Set("X-Hop", "secret")
	req.Header.Set("X-Aligngate-Mode", "off")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(got) != okChat {
		t.Errorf("response changed: %s", got)
	}
	if !bytes.Equal(rec.body, []byte(body)) {
		t.Errorf("request body changed:\n got %s\nwant %s", rec.body, body)
	}
	if rec.path != "/v1/chat/completions?api-version=2" {
		t.Errorf("path %q", rec.path)
	}
	if rec.header.Get("Authorization") != "Bearer client-key" {
		t.Errorf("client Authorization not forwarded: %q", rec.header.Get("Authorization"))
	}
	if rec.header.Get("Traceparent") == "" {
		t.Error("traceparent not forwarded")
	}
	if rec.header.Get("X-Hop") != "" || rec.header.Get("X-Aligngate-Mode") != "" {
		t.Errorf("hop-by-hop or control header forwarded: %v", rec.header)
	}
}

func TestRoutingByModelAndKey(t *testing.T) {
	a, b := &recorder{}, &recorder{}
	upA := httptest.NewServer(a.handler(200, okChat))
	defer upA.Close()
	upB := httptest.NewServer(b.handler(200, okChat))
	defer upB.Close()
	px := newProxy(t, upA.URL, func(c *testConfig) {
		c.Upstreams = append(c.Upstreams, Upstream{Name: "b", BaseURL: upB.URL + "/v1", APIKey: "server-key", Models: []string{"llama-*"}})
	})
	post(t, px.URL+"/v1/chat/completions", `{"model":"llama-3","messages":[]}`)
	post(t, px.URL+"/v1/chat/completions", `{"model":"gpt-4","messages":[]}`)
	post(t, px.URL+"/v1/embeddings", `{"model":"llama-embed","input":"x"}`)
	if b.calls != 2 || a.calls != 1 {
		t.Fatalf("calls a=%d b=%d, want a=1 b=2", a.calls, b.calls)
	}
	if got := b.header.Get("Authorization"); got != "Bearer server-key" {
		t.Errorf("configured key not set: %q", got)
	}
}

func TestOtherRoutesForwarded(t *testing.T) {
	rec := &recorder{}
	up := httptest.NewServer(rec.handler(200, `{"object":"list","data":[]}`))
	defer up.Close()
	px := newProxy(t, up.URL, nil)
	for _, p := range []string{"/v1/models", "/v1/models/gpt-4", "/v1/files?purpose=x"} {
		resp, err := http.Get(px.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || rec.path != p {
			t.Errorf("%s: status %d, upstream saw %q", p, resp.StatusCode, rec.path)
		}
	}
	resp, b := post(t, px.URL+"/v1/responses", `{"model":"m","input":"hi"}`)
	if resp.StatusCode != 200 || rec.path != "/v1/responses" || string(rec.body) != `{"model":"m","input":"hi"}` {
		t.Errorf("responses: %d %s %q", resp.StatusCode, b, rec.path)
	}
}

func TestHealth(t *testing.T) {
	px := newProxy(t, "http://127.0.0.1:1", nil)
	for _, p := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(px.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
	}
}

// TestStreamUnbufferedAndOrdered checks that each chunk reaches the client
// before the upstream writes the next one.
func TestStreamUnbufferedAndOrdered(t *testing.T) {
	next := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for i := 0; i < 3; i++ {
			io.WriteString(w, `data: {"n":`+string(rune('0'+i))+"}\n\n")
			w.(http.Flusher).Flush()
			<-next // the client must have seen chunk i before chunk i+1 is written
		}
		io.WriteString(w, "data: [DONE]\n\n")
	}))
	defer up.Close()
	px := newProxy(t, up.URL, nil)
	resp, err := http.Post(px.URL+"/v1/chat/completions", "application/json", strings.NewReader(`{"model":"m","messages":[],"stream":true}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	r := bufio.NewReader(resp.Body)
	for i := 0; i < 3; i++ {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if want := `data: {"n":` + string(rune('0'+i)) + "}\n"; line != want {
			t.Fatalf("chunk %d = %q, want %q", i, line, want)
		}
		r.ReadString('\n')
		next <- struct{}{}
	}
	rest, _ := io.ReadAll(r)
	if string(rest) != "data: [DONE]\n\n" {
		t.Fatalf("tail %q", rest)
	}
}

func TestClientDisconnectCancelsUpstream(t *testing.T) {
	upstreamDone := make(chan struct{})
	started := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: {}\n\n")
		w.(http.Flusher).Flush()
		close(started)
		<-r.Context().Done() // observed only if the proxy cancels
		close(upstreamDone)
	}))
	defer up.Close()
	px := newProxy(t, up.URL, nil)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "POST", px.URL+"/v1/chat/completions", strings.NewReader(`{"model":"m","messages":[],"stream":true}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	<-started
	bufio.NewReader(resp.Body).ReadString('\n')
	cancel()
	resp.Body.Close()
	select {
	case <-upstreamDone:
	case <-time.After(10 * time.Second):
		t.Fatal("upstream request was not cancelled after the client left")
	}
}

func TestStreamFailureReportedInBand(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: {\"a\":1}\n\ndata: {\"partial")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	defer up.Close()
	px := newProxy(t, up.URL, func(c *testConfig) { c.Timeouts.Idle = 200 * time.Millisecond })
	resp, b := post(t, px.URL+"/v1/chat/completions", `{"model":"m","messages":[],"stream":true}`)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	s := string(b)
	if !strings.Contains(s, "\n\ndata: {\"error\":") || !strings.Contains(s, `"code":"upstream_timeout"`) {
		t.Fatalf("no in-band error: %q", s)
	}
	if strings.Contains(s, "[DONE]") {
		t.Fatalf("stream ended with [DONE] after a failure: %q", s)
	}
}

type panicTransport struct{}

func (panicTransport) RoundTrip(*http.Request) (*http.Response, error) { panic("boom") }

func TestPanicRecovered(t *testing.T) {
	cfg := defaultTestConfig()
	s, err := New(&cfg.Config, Options{Transport: panicTransport{}})
	if err != nil {
		t.Fatal(err)
	}
	px := httptest.NewServer(s.Handler())
	defer px.Close()
	resp, b := post(t, px.URL+"/v1/chat/completions", `{"model":"m","messages":[]}`)
	if resp.StatusCode != 500 {
		t.Fatalf("status %d, want 500", resp.StatusCode)
	}
	decodeError(t, b)
	resp, err = http.Get(px.URL + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("server unhealthy after a panic: %v", err)
	}
	resp.Body.Close()
}

func TestModelsMergedAcrossUpstreams(t *testing.T) {
	a := &recorder{}
	upA := httptest.NewServer(a.handler(200, `{"object":"list","data":[{"id":"gpt-4","object":"model"},{"id":"shared","object":"model","owned_by":"a"}]}`))
	defer upA.Close()
	upB := httptest.NewServer((&recorder{}).handler(200, `{"object":"list","data":[{"id":"llama-3","object":"model"},{"id":"shared","object":"model","owned_by":"b"}]}`))
	defer upB.Close()
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close()
	px := newProxy(t, upA.URL, func(c *testConfig) {
		c.Upstreams = append(c.Upstreams,
			Upstream{Name: "b", BaseURL: upB.URL + "/v1", Models: []string{"llama-*"}},
			Upstream{Name: "down", BaseURL: downURL + "/v1"})
	})
	req, _ := http.NewRequest("GET", px.URL+"/v1/models", nil)
	req.Header.Set("Authorization", "Bearer client-key")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct {
		Object string `json:"object"`
		Data   []struct {
			ID      string `json:"id"`
			OwnedBy string `json:"owned_by"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil || resp.StatusCode != 200 {
		t.Fatalf("status %d: %v", resp.StatusCode, err)
	}
	var ids []string
	for _, m := range list.Data {
		ids = append(ids, m.ID+"/"+m.OwnedBy)
	}
	if got := strings.Join(ids, ","); list.Object != "list" || got != "gpt-4/,shared/a,llama-3/" {
		t.Fatalf("merged list %q", got)
	}
	if a.header.Get("Authorization") != "Bearer client-key" {
		t.Errorf("client key not forwarded to the upstream: %q", a.header.Get("Authorization"))
	}
}

// noLeaks fails t when a goroutine started from here on outlives it (the
// check runs after every cleanup registered later, servers closed).
func noLeaks(t *testing.T) {
	t.Helper()
	opt := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, opt) })
}
