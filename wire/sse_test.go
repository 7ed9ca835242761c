package wire

import (
	"bytes"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
)

// events reads every event of body; the last element is the error that
// ended the stream.
func events(t *testing.T, body string) ([]string, error) {
	t.Helper()
	r := NewSSEReader(strings.NewReader(body))
	var out []string
	for {
		data, err := r.Next()
		if err != nil {
			return out, err
		}
		out = append(out, string(data))
	}
}

func TestSSEReader(t *testing.T) {
	tests := []struct {
		name string
		body string
		want []string
		end  error
	}{
		{"one event then done", "data: {\"a\":1}\n\ndata: [DONE]\n\n", []string{`{"a":1}`}, ErrDone},
		{"no space after colon", "data:{\"a\":1}\n\n", []string{`{"a":1}`}, io.EOF},
		{"multi-line data joined", "data: a\ndata: b\n\n", []string{"a\nb"}, io.EOF},
		{"comments, names and ids skipped", ": keep-alive\n\nevent: x\nid: 1\ndata: y\n\n", []string{"y"}, io.EOF},
		{"CRLF line ends", "data: a\r\n\r\ndata: [DONE]\r\n\r\n", []string{"a"}, ErrDone},
		{"last event without blank line", "data: a\n\ndata: b", []string{"a", "b"}, io.EOF},
		{"last event ends with one newline", "data: a\n", []string{"a"}, io.EOF},
		{"padded done", "data: x\n\ndata:  [DONE] \n\n", []string{"x"}, ErrDone},
		{"blank lines only", "\n\n\n", nil, io.EOF},
		{"empty", "", nil, io.EOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := events(t, tt.body)
			if !errors.Is(err, tt.end) || strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("got %q, %v; want %q, %v", got, err, tt.want, tt.end)
			}
		})
	}
}

func TestSSEReaderLongLine(t *testing.T) {
	long := strings.Repeat("x", 100<<10) // longer than the reader's buffer
	got, err := events(t, "data: "+long+"\n\n")
	if !errors.Is(err, io.EOF) || len(got) != 1 || got[0] != long {
		t.Fatalf("got %d events, %v", len(got), err)
	}
}

func TestSSEReaderTooLarge(t *testing.T) {
	_, err := events(t, "data: "+strings.Repeat("x", maxEvent+1)+"\n\n")
	if err == nil || errors.Is(err, io.EOF) {
		t.Fatalf("err %v, want a size error", err)
	}
}

// errReader fails after its data.
type errReader struct {
	data string
	err  error
}

func (r *errReader) Read(p []byte) (int, error) {
	if r.data == "" {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestSSEReaderPassesReadErrors(t *testing.T) {
	boom := errors.New("boom")
	r := NewSSEReader(&errReader{data: "data: a\n\ndata: b", err: boom})
	if d, err := r.Next(); err != nil || string(d) != "a" {
		t.Fatalf("first: %q %v", d, err)
	}
	if _, err := r.Next(); !errors.Is(err, boom) {
		t.Fatalf("err %v, want boom", err)
	}
}

// TestSSEWriterMultiLineData: a payload holding newlines (a multi-line
// upstream event replayed) reads back as one event, not as a first line
// and stray fields.
func TestSSEWriterMultiLineData(t *testing.T) {
	rec := httptest.NewRecorder()
	w := StartSSE(rec, 200)
	for _, p := range []string{"first\nsecond", "trailing\n", "\n\n", ""} {
		_ = w.Data([]byte(p))
	}
	got, err := events(t, rec.Body.String())
	if !errors.Is(err, io.EOF) || len(got) != 4 || got[0] != "first\nsecond" || got[1] != "trailing\n" || got[2] != "\n\n" || got[3] != "" {
		t.Fatalf("got %q %v from %q", got, err, rec.Body.String())
	}
}

func TestSSEWriterRoundTrip(t *testing.T) {
	rec := httptest.NewRecorder()
	w := StartSSE(rec, 200)
	_ = w.Raw([]byte("data: partial"))
	_ = w.JSON(map[string]int{"a": 1})
	_ = w.Error(NewError(502, TypeUpstream, "x", "bad"))
	_ = w.Done()
	got, err := events(t, rec.Body.String())
	if !errors.Is(err, ErrDone) || len(got) != 3 || got[0] != "partial" || got[1] != `{"a":1}` {
		t.Fatalf("got %q %v from %q", got, err, rec.Body.String())
	}
	if ct := rec.Header().Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("content type %q", ct)
	}
}

func FuzzSSEReader(f *testing.F) {
	f.Add("data: {\"choices\":[{\"text\":\"a\"}]}\n\ndata: [DONE]\n")
	f.Add("data:{\"a\":1}\n")
	f.Add("event: x\nid: 1\n: c\ndata: {\"choices\":null}\n")
	f.Add("data: {\"error\":null,\"choices\":[]}\r\ndata: [DONE]\r\n")
	f.Add("data: a\ndata: b\n\n\n\ndata: c")
	f.Fuzz(func(t *testing.T, body string) {
		r := NewSSEReader(strings.NewReader(body))
		for range len(body) + 2 {
			data, err := r.Next()
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, ErrDone) {
					t.Fatalf("unexpected error %v on %q", err, body)
				}
				return
			}
			// Every event's data comes from the body's data lines.
			for _, line := range bytes.Split(data, []byte("\n")) {
				if !strings.Contains(body, string(line)) {
					t.Fatalf("data %q not in body %q", line, body)
				}
			}
		}
		t.Fatalf("reader did not end on %q", body)
	})
}

func TestSSEWriterEvent(t *testing.T) {
	rec := httptest.NewRecorder()
	w := StartSSE(rec, 200)
	_ = w.Event("response.created", []byte(`{"a":1}`))
	_ = w.Event("bad\nname", []byte(`{"b":2}`))
	want := "event: response.created\ndata: {\"a\":1}\n\ndata: {\"b\":2}\n\n"
	if rec.Body.String() != want {
		t.Fatalf("wrote %q, want %q", rec.Body.String(), want)
	}
	got, err := events(t, rec.Body.String())
	if !errors.Is(err, io.EOF) || len(got) != 2 || got[0] != `{"a":1}` {
		t.Fatalf("read back %q %v", got, err)
	}
}
