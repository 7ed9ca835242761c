package telemetry

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"time"
)

// errNoHijack is returned by Hijack when the wrapped writer cannot hijack.
var errNoHijack = errors.New("telemetry: underlying ResponseWriter does not support hijacking")

// responseWriter records the status, the body size and when the first body
// byte went out. It implements http.Flusher (flushes reach the client at
// once, which SSE needs), http.Hijacker and http.CloseNotifier (gin's
// Context.Stream asserts both), and Unwrap for http.ResponseController.
type responseWriter struct {
	http.ResponseWriter
	now        func() time.Time
	status     int
	bytes      int64
	firstWrite time.Time
}

// WriteHeader records the first final status and passes every call on.
func (w *responseWriter) WriteHeader(code int) {
	if w.status == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write counts the body and notes the time of its first byte.
func (w *responseWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if w.firstWrite.IsZero() && len(b) > 0 {
		w.firstWrite = w.now()
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Flush sends buffered data to the client now.
func (w *responseWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Hijack hands the connection over, when the wrapped writer allows it.
func (w *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if h, ok := w.ResponseWriter.(http.Hijacker); ok {
		return h.Hijack()
	}
	return nil, nil, errNoHijack
}

// CloseNotify exists because gin's Context.Stream calls it unconditionally.
// When the wrapped writer lacks it, the channel never fires.
func (w *responseWriter) CloseNotify() <-chan bool {
	//lint:ignore SA1019 gin's Context.Stream still requires http.CloseNotifier.
	if cn, ok := w.ResponseWriter.(http.CloseNotifier); ok {
		return cn.CloseNotify()
	}
	return make(chan bool)
}

// Unwrap lets http.ResponseController reach the original writer.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// statusCode is what was sent, or 200 when the handler wrote nothing.
func (w *responseWriter) statusCode() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

var (
	_ http.Flusher  = (*responseWriter)(nil)
	_ http.Hijacker = (*responseWriter)(nil)
	//lint:ignore SA1019 gin's Context.Stream still requires http.CloseNotifier.
	_ http.CloseNotifier = (*responseWriter)(nil)
)
