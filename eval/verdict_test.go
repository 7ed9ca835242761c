package eval

import (
	"strings"
	"testing"
)

func TestParseVerdict(t *testing.T) {
	tests := []struct {
		reply string
		want  Verdict
	}{
		{"A is clearer.\n[[responseA]]", VerdictA},
		{"B wins.\n[[responseB]]\n\n", VerdictB},
		{"Same.\n[[Equal]]", VerdictEqual},
		{"[[responseA]]", VerdictA},
		{"Earlier I thought [[responseA]]; final: [[responseA]]", VerdictA},
		{"[[responseA]] ... on reflection [[responseB]]", VerdictUnparsable},
		{"[[responseB]] is better, I think.", VerdictUnparsable},
		{"[[responseb]]", VerdictUnparsable},
		{"[[Response A]]", VerdictUnparsable},
		{"[[responseA]].", VerdictUnparsable},
		{"Equal", VerdictUnparsable},
		{"tie", VerdictUnparsable},
		{"", VerdictUnparsable},
	}
	for _, tt := range tests {
		if got := ParseVerdict(tt.reply); got != tt.want {
			t.Errorf("ParseVerdict(%q) = %q, want %q", tt.reply, got, tt.want)
		}
	}
}

func TestCombine(t *testing.T) {
	// Verdicts are given as the judge saw them: in OriginalFirst, B is the
	// corrected answer; in CorrectedFirst, A is.
	tests := []struct {
		origFirst, corrFirst Verdict
		want                 Outcome
	}{
		{VerdictB, VerdictA, Win},                 // corrected wins both
		{VerdictA, VerdictB, Loss},                // original wins both
		{VerdictA, VerdictA, Tie},                 // position bias: win + loss
		{VerdictB, VerdictB, Tie},                 // position bias the other way
		{VerdictEqual, VerdictEqual, Tie},         // tie + tie
		{VerdictB, VerdictEqual, Win},             // win + tie
		{VerdictEqual, VerdictA, Win},             // tie + win
		{VerdictA, VerdictEqual, Loss},            // loss + tie
		{VerdictEqual, VerdictB, Loss},            // tie + loss
		{VerdictUnparsable, VerdictA, Unparsable}, // one unparsable spoils the pair
		{VerdictB, VerdictUnparsable, Unparsable},
	}
	for _, tt := range tests {
		if got := Combine(tt.origFirst, tt.corrFirst); got != tt.want {
			t.Errorf("Combine(%s, %s) = %s, want %s", tt.origFirst, tt.corrFirst, got, tt.want)
		}
	}
}

func FuzzParseVerdict(f *testing.F) {
	f.Add("reason\n[[responseA]]")
	f.Add("[[Equal]] [[responseB]]")
	f.Fuzz(func(t *testing.T, reply string) {
		v := ParseVerdict(reply)
		if v == VerdictUnparsable {
			return
		}
		if !strings.HasSuffix(strings.TrimRight(reply, " \t\r\n"), marker(v)) {
			t.Fatalf("%q parsed as %s without ending in its marker", reply, v)
		}
	})
}

func TestOmega(t *testing.T) {
	tests := []struct {
		w, t, l int
		want    float64
	}{
		{3, 1, 1, 40},
		{0, 0, 0, 0},
		{0, 2, 2, -50},
		{5, 0, 0, 100},
	}
	for _, tt := range tests {
		if got := Omega(tt.w, tt.t, tt.l); got != tt.want {
			t.Errorf("Omega(%d,%d,%d) = %v, want %v", tt.w, tt.t, tt.l, got, tt.want)
		}
	}
}

func TestSummarizeBootstrap(t *testing.T) {
	mk := func(os ...Outcome) []PairResult {
		var out []PairResult
		for _, o := range os {
			out = append(out, PairResult{Outcomes: map[Dimension]Outcome{Helpfulness: o}})
		}
		return out
	}
	allWin := Summarize(Helpfulness, mk(Win, Win, Win), 500, 1)
	if allWin.Omega != 100 || allWin.Low != 100 || allWin.High != 100 {
		t.Errorf("all wins: %+v", allWin)
	}
	mixed := mk(Win, Win, Win, Tie, Loss, Unparsable, Failed, Win, Loss, Tie)
	a := Summarize(Helpfulness, mixed, 2000, 7)
	b := Summarize(Helpfulness, mixed, 2000, 7)
	if a != b {
		t.Errorf("same seed, different summaries: %+v vs %+v", a, b)
	}
	if a.Win != 4 || a.Tie != 2 || a.Loss != 2 || a.Unparsable != 1 || a.Failed != 1 || a.Omega != 25 {
		t.Errorf("tally: %+v", a)
	}
	if !(a.Low <= a.Omega && a.Omega <= a.High) || a.Low < -100 || a.High > 100 || a.Low == a.High {
		t.Errorf("interval [%v, %v] around %v", a.Low, a.High, a.Omega)
	}
}
