package passthrough

import (
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"time"
)

// NewFloor returns the floor every Go proxy is compared against: the
// standard library's ReverseProxy forwarding to origin (scheme and host; the
// incoming path is kept), with a transport that keeps enough idle
// connections for the benchmark's concurrency. Any Go proxy pays at least
// this: one more loopback hop through net/http.
//
// Copy buffers come from a pool, as any proxy tuned for throughput does;
// without one ReverseProxy allocates 32 KiB per response.
//
// The handler enables full duplex on each response. Without it the HTTP/1
// server closes the inbound body once the streamed answer's headers are
// written, and the transport's final read of that body (checking it is no
// longer than its Content-Length) can land after the close and tear down the
// upstream connection mid-stream (golang/go#40747); a small share of
// streamed answers then end early.
func NewFloor(origin *url.URL) http.Handler {
	t := &http.Transport{
		Proxy:               nil, // loopback benchmark: never consult HTTP_PROXY
		MaxIdleConns:        1024,
		MaxIdleConnsPerHost: 1024,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	rp := &httputil.ReverseProxy{
		Rewrite:    func(pr *httputil.ProxyRequest) { pr.SetURL(origin) },
		Transport:  t,
		BufferPool: &bufferPool{},
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = http.NewResponseController(w).EnableFullDuplex() // not supported on HTTP/2, where it is not needed
		rp.ServeHTTP(w, r)
	})
}

// bufferPool recycles ReverseProxy's 32 KiB copy buffers.
type bufferPool struct{ p sync.Pool }

func (b *bufferPool) Get() []byte {
	if v, ok := b.p.Get().(*[]byte); ok {
		return *v
	}
	return make([]byte, 32<<10)
}

func (b *bufferPool) Put(buf []byte) { b.p.Put(&buf) }

var _ httputil.BufferPool = (*bufferPool)(nil)
