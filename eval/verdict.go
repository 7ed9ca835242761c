package eval

import "strings"

// Verdict is what one judge call concluded about answers A and B.
type Verdict string

// Verdicts. Unparsable is never a tie.
const (
	VerdictA          Verdict = "A"
	VerdictB          Verdict = "B"
	VerdictEqual      Verdict = "equal"
	VerdictUnparsable Verdict = "unparsable"
)

// Verdict markers the judge must end its reply with.
const (
	markerA     = "[[responseA]]"
	markerB     = "[[responseB]]"
	markerEqual = "[[Equal]]"
)

// ParseVerdict reads the judge's reply strictly: after trimming trailing
// white space it must end with exactly one of [[responseA]], [[responseB]]
// or [[Equal]], and no other marker may appear anywhere in it (a reply
// that names two different verdicts is unparsable). Anything else is
// VerdictUnparsable.
func ParseVerdict(reply string) Verdict {
	s := strings.TrimRight(reply, " \t\r\n")
	var v Verdict
	switch {
	case strings.HasSuffix(s, markerA):
		v = VerdictA
	case strings.HasSuffix(s, markerB):
		v = VerdictB
	case strings.HasSuffix(s, markerEqual):
		v = VerdictEqual
	default:
		return VerdictUnparsable
	}
	n := strings.Count(s, markerA) + strings.Count(s, markerB) + strings.Count(s, markerEqual)
	if n != strings.Count(s, marker(v)) {
		return VerdictUnparsable
	}
	return v
}

func marker(v Verdict) string {
	switch v {
	case VerdictA:
		return markerA
	case VerdictB:
		return markerB
	}
	return markerEqual
}

// Order says which answer the judge saw first.
type Order string

// Orders.
const (
	OriginalFirst  Order = "original_first"  // A = original, B = corrected
	CorrectedFirst Order = "corrected_first" // A = corrected, B = original
)

// Orders lists both orders in the sequence they are judged.
var Orders = [...]Order{OriginalFirst, CorrectedFirst}

// Outcome is a pair's result from the corrected answer's point of view.
type Outcome string

// Outcomes.
const (
	Win        Outcome = "win"
	Tie        Outcome = "tie"
	Loss       Outcome = "loss"
	Unparsable Outcome = "unparsable"
)

// score maps a verdict in an order to +1 (corrected better), 0 or -1, and
// reports false for an unparsable verdict.
func score(v Verdict, o Order) (int, bool) {
	corrected := VerdictB
	if o == CorrectedFirst {
		corrected = VerdictA
	}
	switch v {
	case VerdictEqual:
		return 0, true
	case corrected:
		return 1, true
	case VerdictA, VerdictB:
		return -1, true
	}
	return 0, false
}

// Combine merges the verdicts of both orders into one outcome for the
// corrected answer: win+win = win, loss+loss = loss, win+loss = tie,
// tie+tie = tie, win+tie = win, loss+tie = loss (the sign of the sum).
// If either verdict is unparsable, so is the pair.
func Combine(originalFirst, correctedFirst Verdict) Outcome {
	a, ok1 := score(originalFirst, OriginalFirst)
	b, ok2 := score(correctedFirst, CorrectedFirst)
	if !ok1 || !ok2 {
		return Unparsable
	}
	switch s := a + b; {
	case s > 0:
		return Win
	case s < 0:
		return Loss
	}
	return Tie
}
