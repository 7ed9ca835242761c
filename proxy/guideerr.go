package proxy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/aligngate/aligngate/wire"
)

// guideUpstreamError is a failed guide call: a transport or read error, or
// an upstream answer other than a 200 event stream (kept to be relayed).
type guideUpstreamError struct {
	err    error
	status int
	header http.Header
	body   []byte
}

func newGuideUpstreamError(ex *exchange) *guideUpstreamError {
	body, err := io.ReadAll(io.LimitReader(ex, maxErrorBody))
	if err != nil {
		return &guideUpstreamError{err: err}
	}
	return &guideUpstreamError{status: ex.resp.StatusCode, header: ex.resp.Header.Clone(), body: body}
}

func (e *guideUpstreamError) Error() string {
	if e.err != nil {
		return "guide: upstream call: " + e.err.Error()
	}
	return fmt.Sprintf("guide: upstream answered %d", e.status)
}

func (e *guideUpstreamError) Unwrap() error { return e.err }

// write relays the upstream's answer as it was.
func (e *guideUpstreamError) write(w http.ResponseWriter) {
	h := w.Header()
	copyHeader(h, e.header)
	h.Set("Content-Length", strconv.Itoa(len(e.body)))
	w.WriteHeader(e.status)
	_, _ = w.Write(e.body)
}

// errorEvent is the upstream's error body compacted to one SSE event, or
// nil when it is not a JSON error object.
func (e *guideUpstreamError) errorEvent() []byte {
	o, err := wire.ParseObject(e.body)
	if err != nil || isNull(o, "error") {
		return nil
	}
	var b bytes.Buffer
	if json.Compact(&b, e.body) != nil {
		return nil
	}
	return b.Bytes()
}
