package proxy

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/aligngate/aligngate/correct"
	"github.com/aligngate/aligngate/policies"
	"github.com/aligngate/aligngate/telemetry"
)

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// observedProxy serves a correcting proxy whose telemetry records spans in
// memory and logs at debug level into logs.
func observedProxy(t *testing.T, upURL, beURL string) (*httptest.Server, *telemetry.Telemetry, *tracetest.InMemoryExporter, *syncBuffer) {
	t.Helper()
	cfg := defaultTestConfig()
	cfg.Upstreams = []Upstream{{Name: "test", BaseURL: upURL + "/v1", APIKey: "sk-upstream-secret-1234"}}
	cfg.Policies.Default.Mode = "aligner"
	cfg.Correct.Backend = correct.BackendRemote
	cfg.Correct.Remote.BaseURL = beURL + "/v1"
	cfg.Correct.Remote.Model = "aligner"
	cfg.Telemetry.Log.Level = "debug"
	cfg.SetDefaults()
	exp := tracetest.NewInMemoryExporter()
	logs := &syncBuffer{}
	tel, err := telemetry.New(context.Background(), cfg.Telemetry, telemetry.Options{LogWriter: logs, SpanExporter: exp, Secrets: cfg.Secrets()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tel.Shutdown(context.Background()) })
	remote, err := correct.NewRemote(cfg.Correct.Remote, &http.Client{}, tel.InjectHeaders)
	if err != nil {
		t.Fatal(err)
	}
	cor, err := correct.New(cfg.Correct, map[string]correct.Model{"remote": remote}, nil, tel.Logger)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(&cfg.Config, Options{Policies: policies.NewEngine(&cfg.Policies), Corrector: cor, Correction: cfg.settings(), Telemetry: tel, Logger: tel.Logger})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() { _ = s.Close() })
	t.Cleanup(ts.Close)
	return ts, tel, exp, logs
}

const clientTrace = "4bf92f3577b34da6a3ce929d0e0e4736"

func TestTraceThroughProxy(t *testing.T) {
	var upTraceparent string
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		upTraceparent = r.Header.Get("Traceparent")
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, okChat)
	}))
	defer up.Close()
	be := &backend{respond: fixed("Better.")}
	px, tel, exp, _ := observedProxy(t, up.URL, be.server(t).URL)

	req, _ := http.NewRequest("POST", px.URL+"/v1/chat/completions", strings.NewReader(question))
	req.Header.Set("Traceparent", "00-"+clientTrace+"-00f067aa0ba902b7-01")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	tel.ForceFlush(context.Background())

	spans := exp.GetSpans()
	byName := map[string]tracetest.SpanStub{}
	for _, s := range spans {
		byName[s.Name] = s
	}
	server, ok := byName["POST /v1/chat/completions"]
	if !ok {
		t.Fatalf("no server span in %d spans", len(spans))
	}
	if server.SpanContext.TraceID().String() != clientTrace || server.Parent.SpanID().String() != "00f067aa0ba902b7" {
		t.Errorf("server span does not continue the client's trace: %v parent %v", server.SpanContext.TraceID(), server.Parent.SpanID())
	}
	for _, name := range []string{"policy.decide", "upstream test", "correct"} {
		s, ok := byName[name]
		if !ok {
			t.Errorf("no %q span", name)
			continue
		}
		if s.Parent.SpanID() != server.SpanContext.SpanID() {
			t.Errorf("%q is not a child of the server span", name)
		}
	}
	upSpan := byName["upstream test"]
	if want := "00-" + clientTrace + "-" + upSpan.SpanContext.SpanID().String() + "-01"; upTraceparent != want {
		t.Errorf("upstream traceparent %q, want %q", upTraceparent, want)
	}
}

func TestMetricsAndLogsThroughProxy(t *testing.T) {
	up := httptest.NewServer((&recorder{}).handler(200, okChat))
	defer up.Close()
	be := &backend{respond: fixed("Better.")}
	px, _, _, logs := observedProxy(t, up.URL, be.server(t).URL)
	for i := 0; i < 3; i++ {
		req, _ := http.NewRequest("POST", px.URL+"/v1/chat/completions", strings.NewReader(question))
		req.Header.Set("Authorization", "Bearer sk-client-secret-5678")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	resp, err := http.Get(px.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := string(b)
	for _, want := range []string{`route="/v1/chat/completions"`, `mode="aligner"`, `outcome="corrected"`} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if !strings.Contains(m, "aligngate_requests_total") || !strings.Contains(m, "aligngate_correction_duration_seconds") {
		t.Errorf("/metrics lacks request or correction metrics:\n%s", m)
	}
	l := logs.String()
	if !strings.Contains(l, `"route":"/v1/chat/completions"`) {
		t.Fatalf("no request log line: %s", l)
	}
	for _, secret := range []string{"sk-upstream-secret-1234", "sk-client-secret-5678", "Bad answer", `"content":"q"`} {
		if strings.Contains(l, secret) {
			t.Errorf("log leaks %q", secret)
		}
	}
}
