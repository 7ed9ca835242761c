package proxy

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/aligngate/aligngate/wire"
)

// errBodyTimeout is the cause of a request body that stopped arriving for
// longer than server.body_timeout.
var errBodyTimeout = errors.New("proxy: request body read timed out")

// initialBodyBuffer is the most a body buffer holds before its bytes
// arrive: a body announcing a larger Content-Length grows as it is read,
// so clients announcing lengths they never send cost little memory.
const initialBodyBuffer = 64 << 10

// bodyDeadline bounds every read of a request body by the body timeout,
// refreshed before each read, so a client that announces a body and
// stalls is answered 408 and its connection closed instead of being held
// forever. The deadline is cleared once the body is read (or fails), so
// it never cuts a long answer written afterwards.
func (s *Server) bodyDeadline(next http.Handler) http.Handler {
	timeout := s.cfg.Server.BodyTimeout
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if timeout <= 0 || r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		r2 := new(http.Request)
		*r2 = *r
		r2.Body = &deadlineBody{body: r.Body, rc: http.NewResponseController(w), w: w, timeout: timeout}
		next.ServeHTTP(w, r2)
	})
}

// deadlineBody is a request body whose reads are bounded by a deadline on
// the connection.
type deadlineBody struct {
	body    io.ReadCloser
	rc      *http.ResponseController // nil when the writer cannot set deadlines
	w       http.ResponseWriter
	timeout time.Duration
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	if b.rc != nil && b.rc.SetReadDeadline(time.Now().Add(b.timeout)) != nil {
		b.rc = nil
	}
	n, err := b.body.Read(p)
	if err == nil || b.rc == nil {
		return n, err
	}
	_ = b.rc.SetReadDeadline(time.Time{})
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		// The connection cannot be trusted for another request.
		b.w.Header().Set("Connection", "close")
		return n, fmt.Errorf("%w after %s: %w", errBodyTimeout, b.timeout, err)
	}
	return n, err
}

func (b *deadlineBody) Close() error { return b.body.Close() }

// readAnnounced reads a body that announced n bytes into a buffer that
// starts at no more than initialBodyBuffer and doubles as bytes arrive,
// never beyond n. A body under initialBodyBuffer costs one allocation.
func readAnnounced(r io.Reader, n int64) ([]byte, error) {
	buf := make([]byte, 0, min(n, initialBodyBuffer))
	for int64(len(buf)) < n {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(n, 2*int64(cap(buf))))
			copy(grown, buf)
			buf = grown
		}
		m, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if err == nil {
			continue
		}
		if errors.Is(err, io.EOF) && int64(len(buf)) < n {
			return nil, io.ErrUnexpectedEOF
		}
		if !errors.Is(err, io.EOF) {
			return nil, err
		}
	}
	return buf, nil
}

// bodyTimeout is the 408 for a body that stalled.
func bodyTimeout() *wire.Error {
	return wire.NewError(http.StatusRequestTimeout, wire.TypeInvalidRequest, "request_timeout",
		"The request body was not received in time.")
}
