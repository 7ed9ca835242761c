package proxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/aligngate/aligngate/glob"
	"github.com/aligngate/aligngate/telemetry"
)

// upstream is one configured OpenAI-compatible server.
type upstream struct {
	name   string
	base   *url.URL
	apiKey string
	models []string
	drive  string
}

func newUpstream(u Upstream) (*upstream, error) {
	base, err := url.Parse(strings.TrimRight(u.BaseURL, "/"))
	if err != nil {
		return nil, fmt.Errorf("base_url: %w", err)
	}
	return &upstream{name: u.Name, base: base, apiKey: u.APIKey, models: u.Models, drive: u.Drive}, nil
}

func (u *upstream) matches(model string) bool {
	for _, g := range u.models {
		if glob.Match(g, model) {
			return true
		}
	}
	return false
}

// pick chooses the upstream for a model: the first whose globs match, else
// the first configured. Nothing in the request but the model name is used,
// so a client can never point the proxy at a host of its choosing.
func (s *Server) pick(model string) *upstream {
	if model != "" {
		for _, u := range s.upstreams {
			if u.matches(model) {
				return u
			}
		}
	}
	return s.upstreams[0]
}

// target is the upstream URL for a client path under /v1.
func (u *upstream) target(suffix, rawQuery string) *url.URL {
	t := *u.base
	t.Path = u.base.Path + suffix
	t.RawPath = ""
	t.RawQuery = rawQuery
	return &t
}

func newTransport(t Timeouts) *http.Transport {
	d := &net.Dialer{Timeout: t.Connect, KeepAlive: 30 * time.Second}
	return &http.Transport{
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   t.Connect,
		ResponseHeaderTimeout: t.FirstByte,
		ExpectContinueTimeout: time.Second,
		// Bodies are relayed as the upstream encoded them.
		DisableCompression: true,
	}
}

// hopHeaders are meaningful for one connection only (RFC 9110 7.6.1) and
// never forwarded, in either direction.
var hopHeaders = [...]string{
	"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
}

// copyHeader copies end-to-end headers from src to dst.
func copyHeader(dst, src http.Header) {
	var conn []string
	for _, v := range src["Connection"] {
		conn = append(conn, strings.Split(v, ",")...)
	}
outer:
	for k, vv := range src {
		for _, h := range hopHeaders {
			if k == h {
				continue outer
			}
		}
		for _, c := range conn {
			if http.CanonicalHeaderKey(strings.TrimSpace(c)) == k {
				continue outer
			}
		}
		dst[k] = vv
	}
}

// errIdle is the cause of a stream cancelled for going quiet too long.
var errIdle = errors.New("upstream idle timeout")

// call is one exchange with an upstream.
type call struct {
	up      *upstream
	method  string
	suffix  string // path after /v1
	query   string
	header  http.Header
	body    []byte
	noGzip  bool // the answer will be parsed, so ask for identity encoding
	timeout Timeouts
}

// exchange is an upstream response whose body reads are bounded by the idle
// timeout. Close releases the request's context.
type exchange struct {
	resp   *http.Response
	ctx    context.Context
	cancel context.CancelCauseFunc
	idle   *time.Timer
	gap    time.Duration
	start  time.Time
	ttfb   time.Duration
	span   trace.Span
	done   func(*exchange)
	closed sync.Once
}

func (e *exchange) Read(p []byte) (int, error) {
	e.idle.Reset(e.gap)
	n, err := e.resp.Body.Read(p)
	if err != nil {
		if cause := context.Cause(e.ctx); cause != nil {
			return n, cause
		}
	}
	return n, err
}

// Close ends the exchange; only the first call does anything, so a body
// read to its end may be closed at once and again by a deferred Close.
func (e *exchange) Close() error {
	var err error
	e.closed.Do(func() {
		e.idle.Stop()
		err = e.resp.Body.Close()
		e.cancel(nil)
		e.done(e)
	})
	return err
}

// do sends c upstream. The returned exchange must be closed.
func (s *Server) do(ctx context.Context, c call) (*exchange, error) {
	start := time.Now()
	ctx, span := s.tel.Tracer.Start(ctx, "upstream "+c.up.name, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("aligngate.upstream", c.up.name), attribute.String("url.path", c.suffix)))
	ctx, cancel := context.WithCancelCause(ctx)
	ctx, stop := context.WithTimeoutCause(ctx, c.timeout.Total, context.DeadlineExceeded)
	release := func(cause error) { stop(); cancel(cause) }
	req, err := s.newUpstreamRequest(ctx, c)
	if err == nil {
		var resp *http.Response
		if resp, err = s.transport.RoundTrip(req); err == nil {
			e := &exchange{resp: resp, ctx: ctx, cancel: release, gap: c.timeout.Idle, start: start, ttfb: time.Since(start), span: span, done: s.upstreamDone}
			span.SetAttributes(attribute.Int("http.response.status_code", resp.StatusCode),
				attribute.Int64("aligngate.upstream.ttfb_ms", e.ttfb.Milliseconds()))
			e.idle = time.AfterFunc(c.timeout.Idle, func() { cancel(errIdle) })
			return e, nil
		}
	}
	span.RecordError(err)
	span.SetStatus(codes.Error, "upstream call failed")
	span.End()
	release(nil)
	return nil, err
}

func (s *Server) newUpstreamRequest(ctx context.Context, c call) (*http.Request, error) {
	// The URL is built, not parsed: the request starts from an empty one.
	req, err := http.NewRequestWithContext(ctx, c.method, "", bodyReader(c.body))
	if err != nil {
		return nil, fmt.Errorf("build upstream request: %w", err)
	}
	req.URL = c.up.target(c.suffix, c.query)
	req.Host = req.URL.Host
	copyHeader(req.Header, c.header)
	stripOwnHeaders(req.Header)
	if c.up.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.up.apiKey)
	}
	if c.noGzip {
		req.Header.Del("Accept-Encoding")
	}
	s.tel.InjectHeaders(ctx, req.Header)
	req.ContentLength = int64(len(c.body))
	return req, nil
}

// upstreamDone records a finished exchange in telemetry and in the
// request's info (summed over retries and guide rounds).
func (s *Server) upstreamDone(e *exchange) {
	d := time.Since(e.start)
	var route string
	telemetry.Info(e.ctx).Update(func(i *telemetry.RequestInfo) {
		route = i.Route
		if i.UpstreamTTFB == 0 {
			i.UpstreamTTFB = e.ttfb
		}
		i.Upstream += d
	})
	s.tel.Metrics.Upstream(e.ctx, route, e.resp.StatusCode, d, e.ttfb)
	e.span.End()
}

func bodyReader(b []byte) io.Reader {
	if b == nil {
		return nil
	}
	return bytes.NewReader(b)
}

// stripOwnHeaders removes aligngate's control headers before forwarding.
func stripOwnHeaders(h http.Header) {
	for k := range h {
		if strings.HasPrefix(k, "X-Aligngate-") {
			delete(h, k)
		}
	}
}
