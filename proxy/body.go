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

// initialBodyBuffer is the largest body read straight into a buffer of
// its announced length. Longer bodies, and bodies of unknown length, are
// gathered in recycled scratch chunks as they arrive and copied once into a
// buffer of their real length: memory grows with the bytes received, not
// with the length a client announces, and a request allocates one copy
// of its body. The scratch chunks are recycled before the body is handed
// on, so no transport can read them after reuse.
const initialBodyBuffer = 64 << 10

// bodyChunk is the size of the scratch chunks bodies are gathered in.
const bodyChunk = 32 << 10

// freeChunks recycles scratch chunks: a bounded free list (8 MiB at
// most) rather than a sync.Pool, which drops items at random under the
// race detector and after every GC, turning the one copy of a body into
// more.
var freeChunks = make(chan *[]byte, 256)

func getChunk() *[]byte {
	select {
	case c := <-freeChunks:
		return c
	default:
		b := make([]byte, bodyChunk)
		return &b
	}
}

func putChunk(c *[]byte) {
	select {
	case freeChunks <- c:
	default:
	}
}

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

// gatherBody reads r to its end, or n bytes when n >= 0 (fewer is
// io.ErrUnexpectedEOF), as initialBodyBuffer describes.
func gatherBody(r io.Reader, n int64) ([]byte, error) {
	if n >= 0 && n <= initialBodyBuffer {
		buf := make([]byte, n)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, err
		}
		return buf, nil
	}
	var chunks []*[]byte
	defer func() {
		for _, c := range chunks {
			putChunk(c)
		}
	}()
	total, err := fillChunks(r, n, &chunks)
	if err != nil {
		return nil, err
	}
	out := make([]byte, total)
	off := 0
	for _, c := range chunks {
		off += copy(out[off:], *c)
	}
	return out, nil
}

// fillChunks reads into scratch chunks, each filled before the next is
// taken, and returns the number of bytes read.
func fillChunks(r io.Reader, n int64, chunks *[]*[]byte) (int64, error) {
	var total int64
	var cur []byte
	for n < 0 || total < n {
		if len(cur) == 0 {
			c := getChunk()
			*chunks = append(*chunks, c)
			cur = *c
			if n >= 0 && int64(len(cur)) > n-total {
				cur = cur[:n-total]
			}
		}
		m, err := r.Read(cur)
		cur = cur[m:]
		total += int64(m)
		switch {
		case err == nil:
		case errors.Is(err, io.EOF) && n < 0:
			return total, nil
		case errors.Is(err, io.EOF) && total < n:
			return 0, io.ErrUnexpectedEOF
		case !errors.Is(err, io.EOF):
			return 0, err
		}
	}
	return total, nil
}

// bodyTimeout is the 408 for a body that stalled.
func bodyTimeout() *wire.Error {
	return wire.NewError(http.StatusRequestTimeout, wire.TypeInvalidRequest, "request_timeout",
		"The request body was not received in time.")
}
