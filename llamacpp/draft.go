package llamacpp

import (
	"sort"

	"github.com/hybridgroup/yzma/pkg/llama"
)

// maxGram is the longest n-gram of output tokens looked up in the
// reference. Three tokens rarely repeat by chance inside one answer; one
// token still re-synchronises right after a short edit.
const maxGram = 3

// gram is an n-gram of 1..maxGram tokens; unused tokens are -1.
type gram [maxGram]llama.Token

func gramOf(toks []llama.Token) gram {
	g := gram{-1, -1, -1}
	copy(g[:], toks)
	return g
}

// refDraft keeps a request's output aligned with its reference and
// proposes the reference tokens that should come next. The caller builds it
// (index included) outside the scheduler; afterwards only the scheduler
// goroutine uses it.
type refDraft struct {
	ref   []llama.Token
	index map[gram][]int32 // n-gram → reference positions just after it, ascending

	pos    int // reference position aligned with the output at outLen
	outLen int // output length when pos was last found
	n      int // current draft length, adapted to acceptance
	most   int
}

func newRefDraft(ref []llama.Token, maxDraft int) *refDraft {
	d := &refDraft{ref: ref, index: make(map[gram][]int32, 3*len(ref)), n: maxDraft, most: maxDraft}
	for end := 1; end <= len(ref); end++ {
		for k := 1; k <= maxGram && k <= end; k++ {
			g := gramOf(ref[end-k : end])
			d.index[g] = append(d.index[g], int32(end))
		}
	}
	return d
}

// propose returns up to limit reference tokens expected after out (the
// output so far, the token about to be evaluated last), or nil when the
// output is not aligned with any part of the reference.
func (d *refDraft) propose(out []llama.Token, limit int) []llama.Token {
	limit = min(limit, d.n)
	if limit <= 0 || len(out) == 0 {
		return nil
	}
	// When no alignment is found the old one stays: the expectation
	// it gives keeps the next re-synchronisation near where the copy was.
	pos := d.align(out)
	if pos < 0 {
		return nil
	}
	d.pos, d.outLen = pos, len(out)
	return d.ref[pos:min(len(d.ref), pos+limit)]
}

// align finds the reference position matching the end of out: where the
// previous alignment says it should be when the last tokens agree there
// (the copy goes on), else the occurrence of the longest matching suffix
// n-gram nearest to that expectation (an edit, insertion or deletion).
func (d *refDraft) align(out []llama.Token) int {
	want := d.pos + len(out) - d.outLen
	if d.agrees(out, want) {
		return want
	}
	for k := min(maxGram, len(out)); k >= 1; k-- {
		if ends := d.index[gramOf(out[len(out)-k:])]; len(ends) > 0 {
			return nearest(ends, want)
		}
	}
	return -1
}

// agrees reports whether the last tokens of out end at reference position
// at (two tokens, or all of them when out or the reference prefix is
// shorter).
func (d *refDraft) agrees(out []llama.Token, at int) bool {
	k := min(2, len(out), at)
	if at > len(d.ref) || (k == 0 && at != 0) {
		return false
	}
	for i := 1; i <= k; i++ {
		if out[len(out)-i] != d.ref[at-i] {
			return false
		}
	}
	// At the start of the output, the whole output must be the
	// reference's beginning.
	return at > 0 || len(out) == 0
}

// nearest returns the position in ascending ends closest to want,
// preferring the first one at or after it: a correction goes forward.
func nearest(ends []int32, want int) int {
	i := sort.Search(len(ends), func(i int) bool { return int(ends[i]) >= want })
	switch {
	case i == len(ends):
		return int(ends[i-1])
	case i == 0 || int(ends[i])-want <= want-int(ends[i-1]):
		return int(ends[i])
	default:
		return int(ends[i-1])
	}
}

// verified adapts the draft length: a fully accepted draft doubles it, a
// rejection shortens it to what was accepted plus one, so a reference the
// model keeps departing from costs about one extra token a step.
func (d *refDraft) verified(drafted, accepted int) {
	if drafted == 0 {
		return
	}
	if accepted == drafted {
		d.n = min(d.most, 2*d.n)
		return
	}
	d.n = max(1, accepted+1)
}
