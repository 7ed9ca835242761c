// Package glob is the one glob dialect of aligngate, used for model names
// in upstream routing and for every pattern of a policy rule (model, route,
// headers, metadata). `*` matches any run of characters including `/`,
// because model names such as "meta-llama/Llama-3-8B" hold slashes; `?`
// matches one character, `[...]` a class (`[^...]` negated, ranges
// allowed) and `\` escapes the next character.
//
// It is a leaf: it imports nothing of aligngate.
package glob

import (
	"errors"
	"unicode/utf8"
)

// ErrSyntax reports a syntax error in a glob pattern.
var ErrSyntax = errors.New("syntax error in glob")

// Check returns ErrSyntax when pattern is not a well-formed glob.
func Check(pattern string) error {
	for i := 0; i < len(pattern); {
		switch pattern[i] {
		case '\\':
			if i+1 >= len(pattern) {
				return ErrSyntax
			}
			i += 2
		case '[':
			_, _, end, ok := parseClass(pattern, i)
			if !ok {
				return ErrSyntax
			}
			i = end
		default:
			i++
		}
	}
	return nil
}

// Match reports whether s fits pattern. A malformed pattern fits
// nothing. `*` matches any run of characters including `/`, unlike
// path.Match, because model names such as "meta-llama/Llama-3" hold slashes.
// It backtracks only to the last star, so it runs in O(len(s)*len(pattern))
// at worst and allocates nothing.
func Match(pattern, s string) bool {
	p, i := 0, 0
	starP, starI := -1, 0
	for i < len(s) {
		if p < len(pattern) {
			switch c := pattern[p]; c {
			case '*':
				starP, starI = p, i
				p++
				continue
			case '?':
				_, w := utf8.DecodeRuneInString(s[i:])
				p++
				i += w
				continue
			case '[':
				r, w := utf8.DecodeRuneInString(s[i:])
				in, neg, end, ok := parseClass(pattern, p)
				if !ok {
					return false
				}
				if classHas(in, r) != neg {
					p, i = end, i+w
					continue
				}
			case '\\':
				if p+1 < len(pattern) && pattern[p+1] == s[i] {
					p, i = p+2, i+1
					continue
				}
			default:
				if c == s[i] {
					p++
					i++
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		starI++
		p, i = starP+1, starI
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// parseClass parses the class starting at pattern[start] == '['. It returns
// the class body, whether it is negated, the index after ']' and whether the
// class is well formed.
func parseClass(pattern string, start int) (body string, neg bool, end int, ok bool) {
	i := start + 1
	if i < len(pattern) && pattern[i] == '^' {
		neg = true
		i++
	}
	bodyStart := i
	for i < len(pattern) {
		switch pattern[i] {
		case '\\':
			i += 2
			continue
		case ']':
			if i == bodyStart {
				return "", false, 0, false
			}
			return pattern[bodyStart:i], neg, i + 1, validClass(pattern[bodyStart:i])
		}
		i++
	}
	return "", false, 0, false
}

// validClass reports whether a class body has well-formed ranges.
func validClass(body string) bool {
	for i := 0; i < len(body); {
		lo, w := classRune(body, i)
		if w == 0 {
			return false
		}
		i += w
		if i < len(body) && body[i] == '-' && i+1 < len(body) {
			hi, w2 := classRune(body, i+1)
			if w2 == 0 || hi < lo {
				return false
			}
			i += 1 + w2
		}
	}
	return true
}

// classHas reports whether r is in the class body.
func classHas(body string, r rune) bool {
	for i := 0; i < len(body); {
		lo, w := classRune(body, i)
		i += w
		hi := lo
		if i < len(body) && body[i] == '-' && i+1 < len(body) {
			var w2 int
			hi, w2 = classRune(body, i+1)
			i += 1 + w2
		}
		if lo <= r && r <= hi {
			return true
		}
	}
	return false
}

// classRune decodes one possibly escaped rune of a class body at i and
// returns it with the bytes it took (0 when malformed).
func classRune(body string, i int) (rune, int) {
	if body[i] == '\\' {
		if i+1 >= len(body) {
			return 0, 0
		}
		r, w := utf8.DecodeRuneInString(body[i+1:])
		return r, 1 + w
	}
	r, w := utf8.DecodeRuneInString(body[i:])
	return r, w
}
