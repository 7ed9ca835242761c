package correct

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptrace"
	"sync/atomic"
	"time"
)

// RemoteIdleConnTimeout is how long NewRemoteTransport keeps an idle
// connection to the backend: below the 5 s keep-alive of llama-server
// and of vLLM's uvicorn, so the client drops a connection before the
// backend does in all but a narrow race, which the retry covers.
const RemoteIdleConnTimeout = 4 * time.Second

// NewRemoteTransport returns the transport a remote backend's client
// should use: the standard library's defaults with RemoteIdleConnTimeout.
func NewRemoteTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.IdleConnTimeout = RemoteIdleConnTimeout
	t.MaxIdleConnsPerHost = 16
	return t
}

// retryClient is the client a retry goes through: the Remote's own
// transport with keep-alives off, so the retry runs on a new connection
// rather than on another pooled one the backend may have closed too. A
// transport that is not an *http.Transport is used as it is.
func retryClient(c *http.Client) *http.Client {
	rt := c.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	t, ok := rt.(*http.Transport)
	if !ok {
		return c
	}
	t = t.Clone()
	t.DisableKeepAlives = true
	cc := *c
	cc.Transport = t
	return &cc
}

// attempt records what happened to one request's connection.
type attempt struct {
	reused   atomic.Bool // the request went out on a kept-alive connection
	answered atomic.Bool // a byte of the response arrived
}

func (a *attempt) trace(ctx context.Context) context.Context {
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		GotConn:              func(i httptrace.GotConnInfo) { a.reused.Store(i.Reused) },
		GotFirstResponseByte: func() { a.answered.Store(true) },
	})
}

// post sends the completion request. A request that failed on a
// kept-alive connection before any byte of the answer arrived (the
// backend closed the connection while it sat idle: "server closed idle
// connection", a reset) says nothing of the backend's health, so it is
// sent once more, on a new connection. Nothing is retried once the
// backend has started answering.
func (m *Remote) post(ctx context.Context, prompt string, p Params) (*http.Response, error) {
	var first attempt
	req, err := m.newRequest(first.trace(ctx), prompt, p)
	if err != nil {
		return nil, err
	}
	resp, err := m.client.Do(req)
	if err == nil {
		return resp, nil
	}
	if !first.reused.Load() || first.answered.Load() || ctx.Err() != nil {
		return nil, fmt.Errorf("correct: remote: %w", err)
	}
	m.retries.Add(1)
	req, rerr := m.newRequest(ctx, prompt, p)
	if rerr != nil {
		return nil, rerr
	}
	resp, rerr = m.retry.Do(req)
	if rerr != nil {
		return nil, fmt.Errorf("correct: remote: retried after %v: %w", err, rerr)
	}
	return resp, nil
}

// Retries is how many requests were sent a second time because a
// kept-alive connection had been closed under them.
func (m *Remote) Retries() int64 { return m.retries.Load() }
