package eval

import "unicode"

// Op is a diff operation.
type Op int

// Diff operations.
const (
	Equal Op = iota
	Delete
	Insert
)

// Chunk is a run of text with one operation.
type Chunk struct {
	Op   Op
	Text string
}

// maxDiffTokens bounds the O(n·m) table; longer texts diff as one
// replacement.
const maxDiffTokens = 3000

// WordDiff returns a word-level diff from a to b: words and the white
// space between them are tokens, the longest common subsequence of tokens
// is kept as Equal, the rest is Delete (from a) or Insert (from b).
// Adjacent chunks with the same operation are merged.
func WordDiff(a, b string) []Chunk {
	ta, tb := tokens(a), tokens(b)
	if len(ta) > maxDiffTokens || len(tb) > maxDiffTokens {
		return merge([]Chunk{{Delete, a}, {Insert, b}})
	}
	// lcs[i][j] = LCS length of ta[i:] and tb[j:], one flat slice.
	w := len(tb) + 1
	lcs := make([]int32, (len(ta)+1)*w)
	for i := len(ta) - 1; i >= 0; i-- {
		for j := len(tb) - 1; j >= 0; j-- {
			if ta[i] == tb[j] {
				lcs[i*w+j] = lcs[(i+1)*w+j+1] + 1
			} else {
				lcs[i*w+j] = max(lcs[(i+1)*w+j], lcs[i*w+j+1])
			}
		}
	}
	var out []Chunk
	i, j := 0, 0
	for i < len(ta) && j < len(tb) {
		switch {
		case ta[i] == tb[j]:
			out = append(out, Chunk{Equal, ta[i]})
			i, j = i+1, j+1
		case lcs[(i+1)*w+j] >= lcs[i*w+j+1]:
			out = append(out, Chunk{Delete, ta[i]})
			i++
		default:
			out = append(out, Chunk{Insert, tb[j]})
			j++
		}
	}
	for ; i < len(ta); i++ {
		out = append(out, Chunk{Delete, ta[i]})
	}
	for ; j < len(tb); j++ {
		out = append(out, Chunk{Insert, tb[j]})
	}
	return merge(out)
}

// tokens splits s into alternating runs of space and non-space.
func tokens(s string) []string {
	var out []string
	start := 0
	prev := -1
	for i, r := range s {
		sp := 0
		if unicode.IsSpace(r) {
			sp = 1
		}
		if prev >= 0 && sp != prev {
			out = append(out, s[start:i])
			start = i
		}
		prev = sp
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

func merge(in []Chunk) []Chunk {
	var out []Chunk
	for _, c := range in {
		if c.Text == "" {
			continue
		}
		if n := len(out); n > 0 && out[n-1].Op == c.Op {
			out[n-1].Text += c.Text
			continue
		}
		out = append(out, c)
	}
	return out
}
