package correct

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Segment is one piece of an answer cut by a Splitter.
type Segment struct {
	// Text is the piece, byte for byte: concatenating every Segment of a
	// stream gives back the stream. A sentence carries the whitespace that
	// precedes it (the newline before a list item, the space after the
	// previous full stop), not the whitespace after it.
	Text string
	// Code reports whether Text is a line of a fenced code block, the fence
	// lines included; code is passed through uncorrected.
	Code bool
	// Closes reports whether Text is the fence line that closes its code
	// block, so that callers never parse fences themselves.
	Closes bool
}

// Splitter cuts a streamed answer into sentences and code lines. Write may
// be fed arbitrary chunks; a sentence is returned once its end is certain,
// which for ".!?" needs the character after it (whitespace), so a sentence
// is held back until the next chunk or Flush.
//
// Boundaries: after ".", "!", "?" (and runs like "?!") followed by
// whitespace, with closing quotes, brackets and emphasis ("He said "Hi."")
// kept in the sentence; after CJK "。！？" with no whitespace needed; at every
// line break (so each list item is a sentence). Not boundaries: a "." inside
// a word (3.14, v1.2.3, example.com, a@b.org, URLs), abbreviations (e.g.,
// i.e., Dr., U.S., etc., single initials), a list number ("1.") at the start
// of a line, and an ellipsis ("...", "…") followed by a lower-case word.
// Fenced code blocks (``` or ~~~, any indentation) are returned line by line
// as Code segments, fences included.
//
// A Splitter is not safe for concurrent use.
type Splitter struct {
	buf       string
	scan      int    // where scanning resumes in buf
	lineStart bool   // buf[0] starts a line
	fence     string // the opening fence run inside a code block, else ""
	opening   bool   // the next code line is the opening fence line
}

// NewSplitter returns a Splitter at the start of a stream.
func NewSplitter() *Splitter { return &Splitter{lineStart: true} }

// Write adds text and returns the segments it completed.
func (s *Splitter) Write(text string) []Segment {
	s.buf += text
	return s.split(false)
}

// Flush returns every pending segment, treating the input so far as ended.
// The code-block state is kept, so a Splitter may be written to again.
func (s *Splitter) Flush() []Segment {
	out := s.split(true)
	if s.buf == "" {
		return out
	}
	seg := Segment{Text: s.buf, Code: s.fence != ""}
	if seg.Code && !s.opening && s.lineStart && closesFence(seg.Text, s.fence) {
		s.fence = ""
		seg.Closes = true
	}
	s.opening = false
	s.take(len(s.buf))
	return append(out, seg)
}

// split returns the segments complete in buf; final means no more input.
func (s *Splitter) split(final bool) []Segment {
	var out []Segment
	for {
		var seg Segment
		var ok bool
		if s.fence != "" {
			seg, ok = s.nextCode()
		} else {
			seg, ok = s.nextText(final)
		}
		if !ok {
			return out
		}
		if seg.Text != "" {
			out = append(out, seg)
		}
	}
}

// take removes the first n bytes of buf and returns them.
func (s *Splitter) take(n int) string {
	t := s.buf[:n]
	s.buf = s.buf[n:]
	s.scan = 0
	s.lineStart = t[n-1] == '\n'
	return t
}

// nextCode returns the next complete code line.
func (s *Splitter) nextCode() (Segment, bool) {
	nl := strings.IndexByte(s.buf, '\n')
	if nl < 0 {
		return Segment{}, false
	}
	closing := !s.opening && s.lineStart && closesFence(s.buf[:nl], s.fence)
	s.opening = false
	seg := Segment{Text: s.take(nl + 1), Code: true, Closes: closing}
	if closing {
		s.fence = ""
	}
	return seg, true
}

// Outcomes of looking at a possible boundary.
const (
	noBoundary = iota
	boundary
	undecided // more input needed
)

// nextText returns the next complete sentence, or (empty, true) after
// entering a code block.
func (s *Splitter) nextText(final bool) (Segment, bool) {
	for i := s.scan; i < len(s.buf); {
		if i == 0 && s.lineStart || i > 0 && s.buf[i-1] == '\n' {
			switch run, st := fenceAt(s.buf[i:], final); st {
			case undecided:
				s.scan = i
				return Segment{}, false
			case boundary:
				if i > 0 {
					return Segment{Text: s.take(i)}, true
				}
				s.fence, s.opening = run, true
				return Segment{}, true
			}
		}
		r, size, ok := s.runeAt(i, final)
		if !ok {
			s.scan = i
			return Segment{}, false
		}
		switch {
		case r == '\n':
			if strings.TrimSpace(s.buf[:i]) != "" {
				return Segment{Text: s.take(i)}, true
			}
		case isTerminator(r) || isCJKTerminator(r):
			end, st := s.terminator(i, final)
			switch st {
			case undecided:
				s.scan = i
				return Segment{}, false
			case boundary:
				return Segment{Text: s.take(end)}, true
			}
			i = end
			continue
		}
		i += size
	}
	s.scan = len(s.buf)
	return Segment{}, false
}

// terminator decides whether the terminator run at i ends a sentence and
// returns the index after the run and its closing marks.
func (s *Splitter) terminator(i int, final bool) (int, int) {
	buf := s.buf
	j, cjk, ellipsis := i, false, false
	for j < len(buf) {
		r, size, ok := s.runeAt(j, final)
		if !ok {
			return j, undecided
		}
		if !isTerminator(r) && !isCJKTerminator(r) {
			break
		}
		cjk = cjk || isCJKTerminator(r)
		ellipsis = ellipsis || r == '…' || r == '.' && j > i && buf[j-1] == '.'
		j += size
	}
	k := j
	for k < len(buf) {
		r, size, ok := s.runeAt(k, final)
		if !ok {
			return k, undecided
		}
		if !isCloser(r) {
			break
		}
		k += size
	}
	if k == len(buf) {
		if final {
			return k, boundary
		}
		return k, undecided
	}
	if cjk {
		return k, boundary
	}
	next, _, ok := s.runeAt(k, final)
	if !ok {
		return k, undecided
	}
	if !isSpace(next) {
		return k, noBoundary
	}
	switch {
	case ellipsis:
		return k, s.afterEllipsis(k, final)
	case j-i == 1 && buf[i] == '.' && s.notFullStop(i):
		return k, noBoundary
	}
	return k, boundary
}

// afterEllipsis decides an ellipsis followed by whitespace at k: a boundary
// unless the next word starts lower-case (or a line break follows, which is
// a boundary of its own).
func (s *Splitter) afterEllipsis(k int, final bool) int {
	for m := k; m < len(s.buf); {
		r, size, ok := s.runeAt(m, final)
		switch {
		case !ok:
			return undecided
		case r == '\n':
			return noBoundary
		case isSpace(r):
			m += size
			continue
		case unicode.IsLower(r):
			return noBoundary
		}
		return boundary
	}
	if final {
		return boundary
	}
	return undecided
}

// runeAt decodes the rune at i; ok is false when buf ends inside it and
// more input may complete it.
func (s *Splitter) runeAt(i int, final bool) (r rune, size int, ok bool) {
	if !final && !utf8.FullRuneInString(s.buf[i:]) {
		return 0, 0, false
	}
	r, size = utf8.DecodeRuneInString(s.buf[i:])
	return r, size, true
}

// notFullStop reports whether the "." at i ends an abbreviation, an initial
// or a list number rather than a sentence.
func (s *Splitter) notFullStop(i int) bool {
	w := i
	for w > 0 {
		r, size := utf8.DecodeLastRuneInString(s.buf[:w])
		if isSpace(r) || strings.ContainsRune("(\"'“‘[*_", r) {
			break
		}
		w -= size
	}
	word := s.buf[w:i]
	if isAbbreviation(word) {
		return true
	}
	if word == "" || strings.Trim(word, "0123456789") != "" {
		return false
	}
	// A number alone at the start of its line is a list marker.
	ls := strings.LastIndexByte(s.buf[:w], '\n')
	if ls < 0 && !s.lineStart {
		return false
	}
	return strings.Trim(s.buf[ls+1:w], " \t") == ""
}

// abbreviations end with a "." that does not end the sentence.
var abbreviations = map[string]bool{
	"e.g": true, "i.e": true, "etc": true, "vs": true, "cf": true, "al": true,
	"dr": true, "mr": true, "mrs": true, "ms": true, "prof": true, "sr": true, "jr": true,
	"st": true, "mt": true, "approx": true, "fig": true, "figs": true, "eq": true,
	"inc": true, "ltd": true, "co": true, "corp": true, "dept": true, "est": true,
	"vol": true, "pp": true, "ch": true, "sec": true, "resp": true, "ca": true,
}

// isAbbreviation reports whether word (without its final ".") is a known
// abbreviation, a single-letter initial or a dotted acronym like U.S.
func isAbbreviation(word string) bool {
	lw := strings.ToLower(word)
	if abbreviations[lw] {
		return true
	}
	if utf8.RuneCountInString(word) == 1 {
		r, _ := utf8.DecodeRuneInString(word)
		return unicode.IsLetter(r)
	}
	// Dotted single letters: u.s, a.m, p.h.d
	parts := strings.Split(word, ".")
	if len(parts) < 2 {
		return false
	}
	for _, p := range parts {
		if utf8.RuneCountInString(p) != 1 || !unicode.IsLetter([]rune(p)[0]) {
			return false
		}
	}
	return true
}

// fenceAt reports whether line (the rest of the buffer from a line start)
// opens a code fence, and returns the fence run.
func fenceAt(line string, final bool) (string, int) {
	j := 0
	for j < len(line) && (line[j] == ' ' || line[j] == '\t') {
		j++
	}
	if j == len(line) {
		if final {
			return "", noBoundary
		}
		return "", undecided
	}
	c := line[j]
	if c != '`' && c != '~' {
		return "", noBoundary
	}
	k := j
	for k < len(line) && line[k] == c {
		k++
	}
	if k == len(line) && !final {
		return "", undecided
	}
	if k-j < 3 {
		return "", noBoundary
	}
	return line[j:k], boundary
}

// closesFence reports whether line (without its newline) closes the code
// block opened by fence: the same character, at least as many, nothing else.
func closesFence(line, fence string) bool {
	t := strings.TrimSpace(line)
	if len(t) < len(fence) {
		return false
	}
	return strings.Trim(t, fence[:1]) == ""
}

// isTerminator reports whether r may end a Latin-script sentence.
func isTerminator(r rune) bool { return r == '.' || r == '!' || r == '?' || r == '…' }

// isCJKTerminator reports whether r ends a sentence with no space after it.
func isCJKTerminator(r rune) bool { return r == '。' || r == '！' || r == '？' || r == '｡' }

// isCloser reports whether r may follow a sentence end within the sentence:
// closing quotes, brackets and Markdown emphasis.
func isCloser(r rune) bool {
	return strings.ContainsRune("\"')]}»”’」』）》*_`", r)
}

// isSpace reports whether r is whitespace.
func isSpace(r rune) bool { return unicode.IsSpace(r) }
