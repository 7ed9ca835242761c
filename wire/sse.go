package wire

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// SSEWriter writes server-sent events and flushes each one at once. It is the
// only place that formats "data:" lines.
type SSEWriter struct {
	w     io.Writer
	flush func() error
	// midEvent reports whether raw bytes written last did not end an event.
	midEvent bool
}

// NewSSEWriter wraps w; when w supports flushing (directly or through
// Unwrap, see http.ResponseController) every event is flushed.
func NewSSEWriter(w http.ResponseWriter) *SSEWriter {
	rc := http.NewResponseController(w)
	return &SSEWriter{w: w, flush: rc.Flush}
}

// StartSSE sets the event-stream headers (unless already set) and writes the status.
func StartSSE(w http.ResponseWriter, status int) *SSEWriter {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Del("Content-Length")
	w.WriteHeader(status)
	s := NewSSEWriter(w)
	_ = s.flush()
	return s
}

// Raw relays bytes that are already SSE-encoded (a passthrough), flushing them.
func (s *SSEWriter) Raw(p []byte) error {
	if len(p) == 0 {
		return nil
	}
	if _, err := s.w.Write(p); err != nil {
		return err
	}
	s.midEvent = !bytes.HasSuffix(p, []byte("\n\n"))
	return s.flush()
}

// Data writes one event whose data is payload. Each line of a multi-line
// payload (an upstream event replayed as SSEReader returned it) goes on a
// data line of its own, so the event reads back whole.
func (s *SSEWriter) Data(payload []byte) error {
	if err := s.endEvent(); err != nil {
		return err
	}
	buf := make([]byte, 0, len(payload)+8)
	for {
		line, rest, more := bytes.Cut(payload, []byte{'\n'})
		buf = append(buf, "data: "...)
		buf = append(buf, line...)
		buf = append(buf, '\n')
		if !more {
			break
		}
		payload = rest
	}
	buf = append(buf, '\n')
	if _, err := s.w.Write(buf); err != nil {
		return err
	}
	return s.flush()
}

// Event writes one event named name (an "event:" line, as the Responses
// API names each event by its type) whose data is payload. A name that
// would break the line is left out.
func (s *SSEWriter) Event(name string, payload []byte) error {
	if name == "" || strings.ContainsAny(name, "\r\n") {
		return s.Data(payload)
	}
	if err := s.endEvent(); err != nil {
		return err
	}
	buf := make([]byte, 0, len(name)+len(payload)+16)
	buf = append(buf, "event: "...)
	buf = append(buf, name...)
	buf = append(buf, "\ndata: "...)
	buf = append(buf, payload...)
	buf = append(buf, '\n', '\n')
	if _, err := s.w.Write(buf); err != nil {
		return err
	}
	return s.flush()
}

// JSON writes one event whose data is v encoded as JSON.
func (s *SSEWriter) JSON(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("sse: encode event: %w", err)
	}
	return s.Data(b)
}

// Comment writes an SSE comment line (": text"), which clients ignore: a
// keep-alive while nothing else is ready to send.
func (s *SSEWriter) Comment(text string) error {
	if err := s.endEvent(); err != nil {
		return err
	}
	if _, err := s.w.Write([]byte(": " + text + "\n\n")); err != nil {
		return err
	}
	return s.flush()
}

// Error reports a failure in-band; the caller ends the stream without [DONE].
func (s *SSEWriter) Error(e *Error) error { return s.Data(e.Body()) }

// Done writes the terminating "data: [DONE]" event.
func (s *SSEWriter) Done() error { return s.Data([]byte("[DONE]")) }

// endEvent closes a partially relayed event so the next one parses.
func (s *SSEWriter) endEvent() error {
	if !s.midEvent {
		return nil
	}
	s.midEvent = false
	_, err := s.w.Write([]byte("\n\n"))
	return err
}

// ErrDone is returned by SSEReader.Next after the "[DONE]" event.
var ErrDone = errors.New("sse: done")

// SSEReader decodes server-sent events and returns their data fields.
type SSEReader struct {
	r    *bufio.Reader
	data []byte
}

// NewSSEReader reads events from r.
func NewSSEReader(r io.Reader) *SSEReader {
	return &SSEReader{r: bufio.NewReaderSize(r, 16<<10)}
}

// maxEvent bounds one event's size so a broken upstream cannot grow memory without bound.
const maxEvent = 8 << 20

// Next returns the data of the next event (multi-line data joined by "\n"),
// ErrDone after "[DONE]", or io.EOF at the end of the stream. Comments,
// event names and ids are skipped. The slice is valid until the next call.
func (s *SSEReader) Next() ([]byte, error) {
	s.data = s.data[:0]
	have := false
	for {
		line, err := s.readLine()
		if err != nil && (err != io.EOF || len(line) == 0) {
			if err == io.EOF && have {
				return s.event()
			}
			return nil, err
		}
		if len(line) == 0 {
			if have {
				return s.event()
			}
			continue
		}
		if v, ok := bytes.CutPrefix(line, []byte("data:")); ok {
			v = bytes.TrimPrefix(v, []byte(" "))
			if have {
				s.data = append(s.data, '\n')
			}
			s.data = append(s.data, v...)
			have = true
			if len(s.data) > maxEvent {
				return nil, errors.New("sse: event too large")
			}
		}
		if err == io.EOF {
			if have {
				return s.event()
			}
			return nil, io.EOF
		}
	}
}

func (s *SSEReader) event() ([]byte, error) {
	// Surrounding blanks are tolerated: some servers pad the sentinel.
	if bytes.Equal(bytes.TrimSpace(s.data), []byte("[DONE]")) {
		return nil, ErrDone
	}
	return s.data, nil
}

// readLine returns one line without its end of line, however long (up to
// maxEvent), and io.EOF with the last unterminated line.
func (s *SSEReader) readLine() ([]byte, error) {
	line, err := s.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		long := append([]byte(nil), line...)
		for errors.Is(err, bufio.ErrBufferFull) && len(long) <= maxEvent {
			line, err = s.r.ReadSlice('\n')
			long = append(long, line...)
		}
		if len(long) > maxEvent {
			return nil, errors.New("sse: line too long")
		}
		line = long
	}
	return bytes.TrimRight(line, "\r\n"), err
}
