package telemetry

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

const (
	clientTraceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	clientSpanID  = "00f067aa0ba902b7"
)

// recordingUpstream remembers the traceparent of each request.
type recordingUpstream struct {
	mu           sync.Mutex
	traceparents []string
}

func (u *recordingUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u.mu.Lock()
	u.traceparents = append(u.traceparents, r.Header.Get("traceparent"))
	u.mu.Unlock()
	_, _ = io.WriteString(w, `{"choices":[]}`)
}

func (u *recordingUpstream) got() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.traceparents...)
}

// proxyLike is a handler that starts child spans the way the proxy does.
func proxyLike(tel *Telemetry, upstreamURL string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		info := Info(ctx)
		info.Model, info.Mode = "gpt-test", "aligner"

		_, policy := tel.Tracer.Start(ctx, SpanPolicy, trace.WithAttributes(KeyPolicyRule.String("default")))
		tel.Metrics.Assignment(ctx, "exp1", "treatment")
		policy.End()

		upCtx, up := tel.Tracer.Start(ctx, UpstreamSpanName(OperationChat, info.Model),
			trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(UpstreamAttrs(OperationChat, info.Model)...))
		start := time.Now()
		req, _ := http.NewRequestWithContext(upCtx, http.MethodPost, upstreamURL, nil)
		tel.InjectHeaders(upCtx, req.Header)
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			up.End()
			return
		}
		MarkFirstByte(up, time.Since(start))
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		up.SetAttributes(UsageAttrs(12, 34)...)
		up.End()
		tel.Metrics.Upstream(ctx, info.Route, resp.StatusCode, time.Since(start), time.Millisecond)

		_, cache := tel.Tracer.Start(ctx, SpanCache)
		tel.Metrics.Cache(ctx, CacheMiss)
		cache.SetAttributes(KeyCacheOutcome.String(CacheMiss))
		cache.End()

		_, corr := tel.Tracer.Start(ctx, SpanCorrection)
		c := CorrectionSpan{Mode: "aligner", Backend: "llamacpp", Template: "aligner-v1", Model: "aligner-tiny",
			InputTokens: 40, OutputTokens: 30, Outcome: OutcomeCorrected}
		corr.SetAttributes(c.Attrs()...)
		corr.End()
		tel.Metrics.Correction(ctx, c.Mode, c.Backend, c.Outcome, 300*time.Millisecond, c.OutputTokens)

		info.InputTokens, info.OutputTokens = 12, 34
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "ok")
	})
}

func spanByName(t *testing.T, spans tracetest.SpanStubs, name string) tracetest.SpanStub {
	t.Helper()
	for _, s := range spans {
		if s.Name == name {
			return s
		}
	}
	names := make([]string, 0, len(spans))
	for _, s := range spans {
		names = append(names, s.Name)
	}
	t.Fatalf("no span %q among %v", name, names)
	return tracetest.SpanStub{}
}

func attrMap(kvs []attribute.KeyValue) map[attribute.Key]attribute.Value {
	m := make(map[attribute.Key]attribute.Value, len(kvs))
	for _, kv := range kvs {
		m[kv.Key] = kv.Value
	}
	return m
}

func TestWrapSpanTreeContinuesClientTrace(t *testing.T) {
	h := newHarness(t, Config{}, Options{})
	upstream := &recordingUpstream{}
	us := httptest.NewServer(upstream)
	defer us.Close()

	rec := do(h.tel.Wrap(proxyLike(h.tel, us.URL)), http.MethodPost, "/v1/chat/completions", http.Header{
		"Traceparent": {"00-" + clientTraceID + "-" + clientSpanID + "-01"},
	})
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	spans := h.flushSpans(t)
	if len(spans) != 5 {
		t.Fatalf("got %d spans, want 5 (server, policy, upstream, cache, correction)", len(spans))
	}
	server := spanByName(t, spans, "POST /v1/chat/completions")
	if got := server.SpanContext.TraceID().String(); got != clientTraceID {
		t.Errorf("server span trace ID %s, want the client's %s", got, clientTraceID)
	}
	if got := server.Parent.SpanID().String(); got != clientSpanID || !server.Parent.IsRemote() {
		t.Errorf("server span parent %s (remote %v), want the client's span %s", got, server.Parent.IsRemote(), clientSpanID)
	}
	if server.SpanKind != trace.SpanKindServer {
		t.Errorf("server span kind %v", server.SpanKind)
	}
	for _, name := range []string{SpanPolicy, "chat gpt-test", SpanCache, SpanCorrection} {
		child := spanByName(t, spans, name)
		if child.Parent.SpanID() != server.SpanContext.SpanID() {
			t.Errorf("span %q parent %s, want server span %s", name, child.Parent.SpanID(), server.SpanContext.SpanID())
		}
		if child.SpanContext.TraceID() != server.SpanContext.TraceID() {
			t.Errorf("span %q in another trace", name)
		}
	}

	sa := attrMap(server.Attributes)
	wantServer := map[attribute.Key]attribute.Value{
		"http.request.method":       attribute.StringValue("POST"),
		"http.route":                attribute.StringValue("/v1/chat/completions"),
		"http.response.status_code": attribute.IntValue(200),
		"gen_ai.request.model":      attribute.StringValue("gpt-test"),
		"gen_ai.usage.input_tokens": attribute.IntValue(12),
		KeyMode:                     attribute.StringValue("aligner"),
		KeyArm:                      attribute.StringValue("treatment"),
		KeyExperiment:               attribute.StringValue("exp1"),
		KeyCacheOutcome:             attribute.StringValue(CacheMiss),
		KeyCorrected:                attribute.BoolValue(true),
	}
	for k, v := range wantServer {
		if sa[k] != v {
			t.Errorf("server span %s = %v, want %v", k, sa[k].String(), v.String())
		}
	}

	up := spanByName(t, spans, "chat gpt-test")
	ua := attrMap(up.Attributes)
	if ua["gen_ai.operation.name"].AsString() != OperationChat || ua["gen_ai.usage.output_tokens"].AsInt64() != 34 {
		t.Errorf("upstream span attributes %v", up.Attributes)
	}
	if _, ok := ua[KeyTTFB]; !ok || len(up.Events) != 1 || up.Events[0].Name != EventFirstByte {
		t.Errorf("upstream span lacks time to first byte: attrs %v events %v", up.Attributes, up.Events)
	}
	ca := attrMap(spanByName(t, spans, SpanCorrection).Attributes)
	for k, v := range map[attribute.Key]attribute.Value{
		KeyMode: attribute.StringValue("aligner"), KeyBackend: attribute.StringValue("llamacpp"),
		KeyTemplate: attribute.StringValue("aligner-v1"), KeyOutcome: attribute.StringValue(OutcomeCorrected),
		"gen_ai.usage.input_tokens": attribute.IntValue(40), "gen_ai.usage.output_tokens": attribute.IntValue(30),
	} {
		if ca[k] != v {
			t.Errorf("correction span %s = %v, want %v", k, ca[k].String(), v.String())
		}
	}

	got := upstream.got()
	want := "00-" + clientTraceID + "-" + up.SpanContext.SpanID().String() + "-01"
	if len(got) != 1 || got[0] != want {
		t.Errorf("upstream received traceparent %q, want %q (the proxy's upstream span)", got, want)
	}
}

func TestWrapStartsNewTraceWithoutClientContext(t *testing.T) {
	h := newHarness(t, Config{}, Options{})
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {})
	do(h.tel.Wrap(ok), http.MethodGet, "/v1/models", nil)
	spans := h.flushSpans(t)
	if len(spans) != 1 {
		t.Fatalf("got %d spans, want 1", len(spans))
	}
	if spans[0].Parent.IsValid() {
		t.Errorf("root span has parent %v", spans[0].Parent)
	}
	if spans[0].Name != "GET /v1/models" {
		t.Errorf("span name %q", spans[0].Name)
	}
}

func TestSamplingIsParentBased(t *testing.T) {
	h := newHarness(t, Config{Traces: TracesConfig{SampleRatio: 1e-12}}, Options{})
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {})
	do(h.tel.Wrap(ok), http.MethodGet, "/v1/models", nil)
	do(h.tel.Wrap(ok), http.MethodGet, "/healthz", http.Header{
		"Traceparent": {"00-" + clientTraceID + "-" + clientSpanID + "-01"},
	})
	spans := h.flushSpans(t)
	if len(spans) != 1 || spans[0].Name != "GET /healthz" {
		t.Fatalf("want only the client-sampled request traced, got %v", len(spans))
	}
}

func TestTransportInjectsTraceparent(t *testing.T) {
	h := newHarness(t, Config{}, Options{})
	upstream := &recordingUpstream{}
	us := httptest.NewServer(upstream)
	defer us.Close()

	ctx, span := h.tel.Tracer.Start(context.Background(), "backend call")
	client := &http.Client{Transport: h.tel.Transport(nil)}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, us.URL, nil)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	span.End()
	if req.Header.Get("traceparent") != "" {
		t.Error("Transport mutated the caller's request")
	}
	want := "00-" + span.SpanContext().TraceID().String() + "-" + span.SpanContext().SpanID().String() + "-01"
	if got := upstream.got(); len(got) != 1 || got[0] != want {
		t.Errorf("backend received %q, want %q", got, want)
	}
}

func TestWrapRecordsPanics(t *testing.T) {
	h := newHarness(t, Config{}, Options{})
	boom := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) })
	func() {
		defer func() {
			if p := recover(); p != http.ErrAbortHandler {
				t.Errorf("panic %v not re-raised", p)
			}
		}()
		do(h.tel.Wrap(boom), http.MethodPost, "/v1/completions", nil)
	}()
	spans := h.flushSpans(t)
	if len(spans) != 1 {
		t.Fatalf("got %d spans, want the ended server span", len(spans))
	}
	if got := attrMap(spans[0].Attributes)["http.response.status_code"].AsInt64(); got != 500 {
		t.Errorf("status attribute %d, want 500", got)
	}
	if _, ok := sample(scrape(t, h.tel), "aligngate_requests_total", map[string]string{"status": "500", "route": "/v1/completions"}); !ok {
		t.Error("panicking request not counted")
	}
}

func TestNopWrapStillProvidesInfo(t *testing.T) {
	tel := Nop()
	var got *RequestInfo
	h := tel.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = Info(r.Context())
		tel.Metrics.Cache(r.Context(), CacheHit)
		if _, ok := w.(http.Flusher); !ok {
			t.Error("Nop Wrap lost http.Flusher")
		}
	}))
	do(h, http.MethodGet, "/v1/chat/completions", nil)
	if got == nil || got.Route != "/v1/chat/completions" || got.Cache != CacheHit {
		t.Errorf("info %+v", got)
	}
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Error(err)
	}
	if rec := do(tel.MetricsHandler(), http.MethodGet, "/metrics", nil); rec.Code != http.StatusNotFound {
		t.Errorf("Nop /metrics status %d", rec.Code)
	}
}

func TestInfoOutsideRequestIsThrowaway(t *testing.T) {
	a, b := Info(context.Background()), Info(context.Background())
	if a == nil || a == b {
		t.Fatal("Info must return a fresh non-nil value outside a request")
	}
}

func TestAddContentOnlyWhenCaptureOn(t *testing.T) {
	for _, capture := range []bool{false, true} {
		h := newHarness(t, Config{CaptureContent: capture}, Options{})
		_, span := h.tel.Tracer.Start(context.Background(), SpanCorrection)
		h.tel.AddContent(span, ContentInput, "the prompt")
		span.End()
		spans := h.flushSpans(t)
		_, has := attrMap(spans[0].Attributes)[ContentInput]
		if has != capture || h.tel.CaptureContent() != capture {
			t.Errorf("capture_content %v: content on span = %v", capture, has)
		}
	}
}
