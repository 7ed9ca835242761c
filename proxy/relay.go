package proxy

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"sync"

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
// out is reported in-band and the stream ends without [DONE].
func (s *Server) relay(w http.ResponseWriter, ex *exchange) {
	copyHeader(w.Header(), ex.resp.Header)
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	if !isEventStream(ex.resp.Header) {
		w.WriteHeader(ex.resp.StatusCode)
		if _, err := io.CopyBuffer(writerOnly{w}, ex, *bp); err != nil {
			s.logger.Warn("upstream body cut short", "err", err)
		}
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

// streamFailed reports an upstream failure in-band, unless the client left.
func (s *Server) streamFailed(sse *wire.SSEWriter, ex *exchange, err error) {
	werr := upstreamError(ex.ctx, err)
	if werr.Status == statusClientClosed {
		return
	}
	s.logger.Warn("upstream stream failed", "err", err)
	_ = sse.Error(werr)
}

// writerOnly hides optional interfaces (io.ReaderFrom) so CopyBuffer uses
// the pooled buffer.
type writerOnly struct{ io.Writer }
