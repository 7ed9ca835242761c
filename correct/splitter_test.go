package correct

import (
	"slices"
	"strings"
	"testing"
)

// splitAll feeds input to a Splitter in chunks of the given sizes (cycled;
// nil means one Write) and returns every segment including the flush.
func splitAll(input string, sizes []int) []Segment {
	s := NewSplitter()
	var out []Segment
	rest := input
	for i := 0; rest != ""; i++ {
		n := len(rest)
		if len(sizes) > 0 {
			n = min(max(sizes[i%len(sizes)], 1), len(rest))
		}
		out = append(out, s.Write(rest[:n])...)
		rest = rest[n:]
	}
	return append(out, s.Flush()...)
}

// texts returns the texts of segs, code lines marked with a leading "C|".
func texts(segs []Segment) []string {
	out := make([]string, len(segs))
	for i, s := range segs {
		out[i] = s.Text
		if s.Code {
			out[i] = "C|" + s.Text
		}
	}
	return out
}

func TestSplitter(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  []string
	}{
		{"sentences", "Hello world. How are you? Fine!", []string{"Hello world.", " How are you?", " Fine!"}},
		{"terminator runs", "Really?! Yes!! Ok.", []string{"Really?!", " Yes!!", " Ok."}},
		{"abbreviations", "Use e.g. this one, i.e. the red. Dr. Smith lives in the U.S. today. Apples, pears, etc. are fruit. Done.",
			[]string{"Use e.g. this one, i.e. the red.", " Dr. Smith lives in the U.S. today.", " Apples, pears, etc. are fruit.", " Done."}},
		{"initials", "J. K. Rowling wrote it. Yes.", []string{"J. K. Rowling wrote it.", " Yes."}},
		{"decimals and versions", "Pi is 3.14 roughly. Use v1.2.3 now. Version 2. Next",
			[]string{"Pi is 3.14 roughly.", " Use v1.2.3 now.", " Version 2.", " Next"}},
		{"ellipsis", "Well... maybe not. Wait… Then go. So... Fine",
			[]string{"Well... maybe not.", " Wait…", " Then go.", " So...", " Fine"}},
		{"numbered list", "Steps:\n1. Open it. Then look.\n2. Close it.\n  10. Nested.",
			[]string{"Steps:", "\n1. Open it.", " Then look.", "\n2. Close it.", "\n  10. Nested."}},
		{"bulleted list", "Items:\n- one\n- two\n* three\n+ four", []string{"Items:", "\n- one", "\n- two", "\n* three", "\n+ four"}},
		{"line breaks", "Line one\nLine two\n\nPara\n", []string{"Line one", "\nLine two", "\n\nPara", "\n"}},
		{"quotes", `He said "Hi." Then left. 'Go!' she cried.`, []string{`He said "Hi."`, " Then left.", ` 'Go!'`, " she cried."}},
		{"curly quotes and brackets", "He said “Hi.” (See above.) Next [ok.] done.", []string{"He said “Hi.”", " (See above.)", " Next [ok.]", " done."}},
		{"emphasis", "**Note.** Text here.", []string{"**Note.**", " Text here."}},
		{"url", "Visit https://example.com/a.b?c=d. It works. See http://x.org/p?q=1&r=2 now.",
			[]string{"Visit https://example.com/a.b?c=d.", " It works.", " See http://x.org/p?q=1&r=2 now."}},
		{"email", "Mail john.doe@example.org for help. Thanks.", []string{"Mail john.doe@example.org for help.", " Thanks."}},
		{"cjk", "你好。我很好！真的吗？是", []string{"你好。", "我很好！", "真的吗？", "是"}},
		{"cjk closing quote", "他说：「好。」然后走了。", []string{"他说：「好。」", "然后走了。"}},
		{"tail flushed", "No terminator", []string{"No terminator"}},
		{"whitespace kept", "  Leading. Trailing.  ", []string{"  Leading.", " Trailing.", "  "}},
		{"backtick fence", "Run:\n```go\nx := 1. Y\n```\nDone. Ok",
			[]string{"Run:", "\n", "C|```go\n", "C|x := 1. Y\n", "C|```\n", "Done.", " Ok"}},
		{"tilde fence unterminated", "Code:\n~~~\na. B\n", []string{"Code:", "\n", "C|~~~\n", "C|a. B\n"}},
		{"fence needs same char", "~~~\n```\nstill code\n~~~\nText.", []string{"C|~~~\n", "C|```\n", "C|still code\n", "C|~~~\n", "Text."}},
		{"indented fence", "1. Item:\n    ```\n    code. X\n    ```\nAfter.", []string{"1. Item:", "\n", "C|    ```\n", "C|    code. X\n", "C|    ```\n", "After."}},
		{"two backticks are no fence", "``x. Y``\nZ", []string{"``x.", " Y``", "\nZ"}},
		{"empty", "", nil},
	}
	chunkings := map[string][]int{"whole": nil, "bytes": {1}, "pairs": {2}, "mixed": {3, 1, 7, 2}}
	for _, tt := range tests {
		for cname, sizes := range chunkings {
			t.Run(tt.name+"/"+cname, func(t *testing.T) {
				got := texts(splitAll(tt.input, sizes))
				if !slices.Equal(got, tt.want) {
					t.Errorf("split(%q)\n got %q\nwant %q", tt.input, got, tt.want)
				}
			})
		}
	}
}

// TestSplitterHoldsBack checks that a sentence is only returned once the
// character after its full stop shows it ended.
func TestSplitterHoldsBack(t *testing.T) {
	s := NewSplitter()
	if got := s.Write("It is 3."); len(got) != 0 {
		t.Fatalf("Write returned %q before seeing the next character", texts(got))
	}
	if got := texts(s.Write("14 today. ")); !slices.Equal(got, []string{"It is 3.14 today."}) {
		t.Fatalf("got %q", got)
	}
	if got := texts(s.Write("Next")); len(got) != 0 {
		t.Fatalf("got %q for an unfinished sentence", got)
	}
	if got := texts(s.Flush()); !slices.Equal(got, []string{" Next"}) {
		t.Fatalf("flush got %q", got)
	}
}

func FuzzSplitter(f *testing.F) {
	seeds := []string{
		"Hello world. How are you?", "1. a\n2. b", "e.g. x. U.S. y…z... A", "```\ncode. x\n```\nText. More",
		"你好。「好。」", "He said \"Hi.\" ok", "https://a.b/c?d. E", "  \n\n ~~~~\n~~~\n", "\xe3\x80", "v1.2.3. Next",
	}
	for _, s := range seeds {
		f.Add(s, []byte{1, 3, 2})
	}
	f.Fuzz(func(t *testing.T, input string, cuts []byte) {
		sizes := make([]int, len(cuts))
		for i, c := range cuts {
			sizes[i] = int(c%16) + 1
		}
		whole := splitAll(input, nil)
		chunked := splitAll(input, sizes)
		var b strings.Builder
		for _, s := range chunked {
			if s.Text == "" {
				t.Fatalf("empty segment in %q", texts(chunked))
			}
			b.WriteString(s.Text)
		}
		if b.String() != input {
			t.Fatalf("concatenation %q != input %q", b.String(), input)
		}
		if !slices.Equal(texts(whole), texts(chunked)) {
			t.Fatalf("chunking changed the split of %q:\nwhole   %q\nchunked %q (sizes %v)", input, texts(whole), texts(chunked), sizes)
		}
	})
}

func BenchmarkSplitter(b *testing.B) {
	text := strings.Repeat("The U.S. economy grew 3.2% in Q1, e.g. in retail. Dr. Smith said \"Good.\" Then:\n1. First item.\n- bullet\n```go\nx := 1.5\n```\n", 20)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		s := NewSplitter()
		for i := 0; i < len(text); i += 4 { // token-sized deltas
			s.Write(text[i:min(i+4, len(text))])
		}
		s.Flush()
	}
}

// The splitter marks the fence line that closes a code block, so callers
// never parse fences; a shorter run or other text inside does not close.
func TestSplitterMarksClosingFence(t *testing.T) {
	s := NewSplitter()
	segs := s.Write("~~~~\na\n~~~\n~~~~~\nAfter.")
	segs = append(segs, s.Flush()...)
	var closes []string
	for _, seg := range segs {
		if seg.Closes {
			closes = append(closes, seg.Text)
		}
		if seg.Closes && !seg.Code {
			t.Errorf("closing segment %q is not code", seg.Text)
		}
	}
	if len(closes) != 1 || closes[0] != "~~~~~\n" {
		t.Errorf("closing segments %q, want only the ~~~~~ line", closes)
	}
	s = NewSplitter()
	if segs := s.Write("```\nx\n"); len(segs) != 2 || segs[0].Closes || segs[1].Closes {
		t.Errorf("opening fence or code line marked closing: %+v", segs)
	}
	if segs := s.Flush(); len(segs) != 0 {
		t.Errorf("flush %+v", segs)
	}
	s = NewSplitter()
	s.Write("```\nx\n")
	if segs := s.Write("```"); len(segs) != 0 {
		t.Fatalf("unterminated closing line returned early: %+v", segs)
	}
	if segs := s.Flush(); len(segs) != 1 || !segs[0].Closes {
		t.Errorf("flushed closing fence %+v", segs)
	}
}
