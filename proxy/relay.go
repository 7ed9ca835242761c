package proxy

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"sync"

	"github.com/aligngate/aligngate/telemetry"
	"github.com/aligngate/aligngate/wire"
)

// bufPool holds the buffers bodies are relayed through, so relaying costs no
// allocation in proportion to the body.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// isEventStream reports whether a response is server-sent events.
func isEventStream(h http.Header) bool {
	mt, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
	return mt == "text/event-stream"
}

// relay copies an upstream answer to the client as it arrives. Event
// streams are flushed after every read; a failure after the headers went
// out is reported in-band and the stream ends without [DONE]. Other bodies
// of unknown length are flushed as they arrive; when one is cut, the
// client connection is aborted, as httputil.ReverseProxy does, so the
// client sees an error rather than a clean, truncated answer.
func (s *Server) relay(w http.ResponseWriter, ex *exchange) {
	copyHeader(w.Header(), ex.resp.Header)
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	if !isEventStream(ex.resp.Header) {
		w.WriteHeader(ex.resp.StatusCode)
		if err := s.copyBody(w, ex, *bp); err != nil {
			s.cut(ex, err)
		}
		copyTrailer(w.Header(), ex.resp.Trailer)
		return
	}
	sse := wire.StartSSE(w, ex.resp.StatusCode)
	buf := *bp
	for {
		n, err := ex.Read(buf)
		if n > 0 {
			if werr := sse.Raw(buf[:n]); werr != nil {
				return // the client left; closing the exchange cancels upstream
			}
		}
		if err == nil {
			continue
		}
		if !errors.Is(err, io.EOF) {
			s.streamFailed(sse, ex, err)
		}
		return
	}
}

// copyBody copies a non-SSE body, flushing after every read when its
// length is unknown. It returns the upstream's read error, not io.EOF; a
// client that left ends the copy with nil.
func (s *Server) copyBody(w http.ResponseWriter, ex *exchange, buf []byte) error {
	flush := ex.resp.ContentLength < 0
	rc := http.NewResponseController(w)
	for {
		n, err := ex.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return nil // the client left; closing the exchange cancels upstream
			}
			if flush {
				_ = rc.Flush()
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// cut handles an upstream body that failed mid-way: counted and logged
// once, then the client connection is aborted. A client that left needs
// neither.
func (s *Server) cut(ex *exchange, err error) {
	if upstreamError(ex.ctx, err).Status == statusClientClosed {
		return
	}
	var route string
	telemetry.Info(ex.ctx).Update(func(i *telemetry.RequestInfo) { route = i.Route })
	s.tel.Metrics.UpstreamCut(ex.ctx, route)
	s.logger.Warn("upstream body cut short; aborting the client connection", "route", route, "err", err)
	panic(http.ErrAbortHandler)
}

// copyTrailer announces the upstream's trailers as net/http expects
// trailers set after the body: under http.TrailerPrefix.
func copyTrailer(dst, trailer http.Header) {
	for k, vv := range trailer {
		dst[http.TrailerPrefix+k] = vv
	}
}

// streamFailed reports an upstream failure in-band, unless the client left.
func (s *Server) streamFailed(sse *wire.SSEWriter, ex *exchange, err error) {
	werr := upstreamError(ex.ctx, err)
	if werr.Status == statusClientClosed {
		return
	}
	s.logger.Warn("upstream stream failed", "err", err)
	_ = sse.Error(werr)
}
