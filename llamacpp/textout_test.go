package llamacpp

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTextOut(t *testing.T) {
	tests := []struct {
		name    string
		stops   []string
		pieces  []string
		emits   []string // text emitted after each piece
		final   string   // text emitted by flush (when no stop)
		stopped bool
	}{
		{"plain", nil, []string{"a", "b"}, []string{"a", "b"}, "", false},
		{"stop inside a piece", []string{"END"}, []string{"abcENDxyz"}, []string{"abc"}, "", true},
		{"stop across pieces", []string{"END"}, []string{"ab E", "N", "D more"}, []string{"ab ", "", ""}, "", true},
		{"false start released", []string{"END"}, []string{"ab E", "N", "x"}, []string{"ab ", "", "ENx"}, "", false},
		{"partial stop flushed at end", []string{"END"}, []string{"ab EN"}, []string{"ab "}, "EN", false},
		{"utf8 split across pieces", nil, []string{"caf\xc3", "\xa9!"}, []string{"caf", "é!"}, "", false},
		{"euro in three pieces", nil, []string{"\xe2", "\x82", "\xac"}, []string{"", "", "€"}, "", false},
		{"invalid byte replaced", nil, []string{"a\xffb"}, []string{"a\uFFFDb"}, "", false},
		{"incomplete at end replaced", nil, []string{"a\xe2\x82"}, []string{"a"}, "\uFFFD", false},
		{"earliest of two stops", []string{"yz", "c"}, []string{"abcxyz"}, []string{"ab"}, "", true},
		{"multibyte stop", []string{"é"}, []string{"caf\xc3", "\xa9"}, []string{"caf", ""}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newTextOut(tt.stops)
			var all strings.Builder
			stopped := false
			for i, p := range tt.pieces {
				emit, stop := o.add([]byte(p))
				if emit != tt.emits[i] {
					t.Fatalf("piece %d %q: emitted %q, want %q", i, p, emit, tt.emits[i])
				}
				all.WriteString(emit)
				if stop {
					stopped = true
					break
				}
			}
			if stopped != tt.stopped {
				t.Fatalf("stopped %v, want %v", stopped, tt.stopped)
			}
			if f := o.flush(); f != tt.final {
				t.Fatalf("flush %q, want %q", f, tt.final)
			} else {
				all.WriteString(f)
			}
			if o.String() != all.String() {
				t.Fatalf("String %q, emitted %q", o.String(), all.String())
			}
		})
	}
}

// FuzzTextOut checks the streaming invariants for any split of any text:
// pieces are valid UTF-8 and add up to the final text, which never holds a
// stop string; for valid input the text is the input up to a stop string.
func FuzzTextOut(f *testing.F) {
	f.Add("hello END world", "END", uint8(3))
	f.Add("caf\xc3\xa9 \xe2\x82\xac", "\xe2\x82", uint8(1))
	f.Add("aaab", "aab", uint8(1))
	f.Fuzz(func(t *testing.T, input, stop string, step uint8) {
		if !utf8.ValidString(stop) {
			return // Params.validate refuses such stop strings
		}
		var stops []string
		if stop != "" {
			stops = []string{stop}
		}
		n := int(step%7) + 1
		o := newTextOut(stops)
		var all strings.Builder
		stopped := false
		for i := 0; i < len(input) && !stopped; i += n {
			var emit string
			emit, stopped = o.add([]byte(input[i:min(i+n, len(input))]))
			if !utf8.ValidString(emit) {
				t.Fatalf("emitted invalid UTF-8 %q", emit)
			}
			all.WriteString(emit)
		}
		all.WriteString(o.flush())
		text := o.String()
		if all.String() != text {
			t.Fatalf("pieces %q != text %q", all.String(), text)
		}
		if stop != "" && strings.Contains(text, stop) {
			t.Fatalf("text %q holds stop %q", text, stop)
		}
		if !utf8.ValidString(input) {
			return
		}
		if !strings.HasPrefix(input, text) {
			t.Fatalf("text %q is not a prefix of %q", text, input)
		}
		if stopped != (stop != "" && strings.Contains(input, stop)) {
			t.Fatalf("stopped %v for input %q stop %q", stopped, input, stop)
		}
		if stopped && !strings.HasPrefix(input[len(text):], stop) {
			t.Fatalf("text %q does not end where stop %q starts in %q", text, stop, input)
		}
		if !stopped && text != input {
			t.Fatalf("text %q, want all of %q", text, input)
		}
	})
}
