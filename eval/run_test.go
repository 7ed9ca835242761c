package eval

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func pair(q, orig, corr string) Pair {
	return Pair{ID: PairID(q, orig, corr), Question: q, Original: orig, Corrected: corr}
}

// scenarioJudge answers by the question's scenario tag. For helpfulness
// the answer containing "GOOD" is better; for harmlessness the one
// containing "HARM" is worse.
func scenarioJudge(dim Dimension, q, a, b string, call int) (int, string) {
	better := func(sa, sb bool) string {
		switch {
		case sa && !sb:
			return "reasoning...\n[[responseA]]"
		case sb && !sa:
			return "reasoning...\n[[responseB]]"
		}
		return "reasoning...\n[[Equal]]"
	}
	switch {
	case strings.HasPrefix(q, "bias"): // always prefers the first answer
		return 0, "first is better\n[[responseA]]"
	case strings.HasPrefix(q, "garbage"):
		return 0, "I refuse to use the format."
	case strings.HasPrefix(q, "flaky-garbage") && call == 1:
		return 0, "[[responseA]] no wait [[responseB]]"
	case strings.HasPrefix(q, "down"):
		return http.StatusInternalServerError, ""
	case strings.HasPrefix(q, "busy") && call <= 2:
		return http.StatusTooManyRequests, ""
	case strings.HasPrefix(q, "half-tie"): // equal when original first, corrected wins otherwise
		if strings.Contains(a, "GOOD") {
			return 0, "[[responseA]]"
		}
		return 0, "[[Equal]]"
	}
	if dim == Harmlessness {
		return 0, better(!strings.Contains(a, "HARM"), !strings.Contains(b, "HARM"))
	}
	return 0, better(strings.Contains(a, "GOOD"), strings.Contains(b, "GOOD"))
}

func scenarioPairs() []Pair {
	return []Pair{
		pair("win-1", "meh HARM", "GOOD"),        // help win, harm win
		pair("win-2", "meh", "GOOD answer"),      // help win, harm tie
		pair("loss-1", "GOOD", "meh HARM"),       // help loss, harm loss
		pair("bias-1", "x", "y"),                 // tie, tie (win+loss)
		pair("tie-1", "GOOD a", "GOOD b"),        // help tie, harm tie
		pair("half-tie-1", "meh", "GOOD"),        // win+tie = win, both dims
		pair("garbage-1", "x", "y"),              // unparsable, both dims
		pair("flaky-garbage-1", "meh", "GOOD"),   // retried: help win, harm tie
		pair("busy-1", "GOOD", "meh"),            // 429 twice then loss; harm tie
		pair("down-1", "x", "y"),                 // failed, both dims
		pair("same-1", "identical", "identical"), // tie without judge calls
	}
}

func TestRunCountsExactly(t *testing.T) {
	j := newFakeJudge(t, scenarioJudge)
	rep, err := Run(t.Context(), Options{Pairs: scenarioPairs(), Judge: j.judge(t), Concurrency: 3, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := map[Dimension]Summary{
		Helpfulness:  {Dimension: Helpfulness, Win: 4, Tie: 3, Loss: 2, Unparsable: 1, Failed: 1},
		Harmlessness: {Dimension: Harmlessness, Win: 2, Tie: 6, Loss: 1, Unparsable: 1, Failed: 1},
	}
	for _, s := range rep.Dimensions {
		w := want[s.Dimension]
		w.Omega, w.Low, w.High = Omega(w.Win, w.Tie, w.Loss), s.Low, s.High
		if s != w {
			t.Errorf("%s: got %+v\nwant %+v", s.Dimension, s, w)
		}
	}
	if got := rep.Dimensions[0].Omega; got != 200.0/9 {
		t.Errorf("helpfulness ω = %v, want 22.2…", got)
	}
	outcomes := map[string]Outcome{}
	for _, p := range rep.Pairs {
		outcomes[p.Pair.Question] = p.Outcomes[Helpfulness]
	}
	for q, o := range map[string]Outcome{"bias-1": Tie, "half-tie-1": Win, "garbage-1": Unparsable, "down-1": Failed, "busy-1": Loss, "same-1": Tie} {
		if outcomes[q] != o {
			t.Errorf("%s: %s, want %s", q, outcomes[q], o)
		}
	}
	// 10 judged pairs × 2 dims × 2 orders = 40 prompts. Extra calls:
	// garbage is tried 3 times per prompt (+2×4), flaky garbage twice
	// (+1×4), busy gets two 429s per prompt (+2×4), down fails 3 times
	// (+2×4).
	if got, want := j.Total(), 40+8+4+8+8; got != want {
		t.Errorf("judge calls = %d, want %d", got, want)
	}
}

func TestRunResumeSkipsJudged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.jsonl")
	pairs := scenarioPairs()
	j := newFakeJudge(t, scenarioJudge)
	run := func() *Report {
		t.Helper()
		st, err := OpenState(path, "fake-judge")
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		rep, err := Run(t.Context(), Options{Pairs: pairs, Judge: j.judge(t), State: st})
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	first := run()
	before := j.Total()
	second := run()
	// Only the failed pair ("down", 2 dims × 2 orders × 3 tries) is asked again.
	if got := j.Total() - before; got != 12 {
		t.Errorf("rerun made %d judge calls, want 12 (only the failed pair)", got)
	}
	for i := range first.Dimensions {
		if first.Dimensions[i] != second.Dimensions[i] {
			t.Errorf("rerun changed the summary: %+v vs %+v", first.Dimensions[i], second.Dimensions[i])
		}
	}
	// A different judge model does not reuse another judge's verdicts.
	st, err := OpenState(path, "other-judge")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if st.Len() != 0 {
		t.Errorf("state of another judge reused: %d entries", st.Len())
	}
}

func TestRunStateSurvivesTornLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.jsonl")
	os.WriteFile(path, []byte(`{"pair":"p","dimension":"helpfulness","order":"original_first","judge":"fake-judge","verdict":"A"}`+"\n"+`{"pair":"q","dim`), 0o600)
	st, err := OpenState(path, "fake-judge")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := st.Lookup("p", Helpfulness, OriginalFirst); !ok || st.Len() != 1 {
		t.Errorf("state not loaded: %d", st.Len())
	}
	if err := st.Put(Judgement{Pair: "r", Dimension: Helpfulness, Order: CorrectedFirst, Verdict: VerdictB}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	st, err = OpenState(path, "fake-judge")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := st.Lookup("r", Helpfulness, CorrectedFirst); !ok {
		t.Error("judgement appended after a torn line was lost")
	}
	st.Close()
	if _, err := OpenState(path, "fake-judge"); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n"); len(lines) != 3 {
		t.Errorf("reopening added blank lines: %q", b)
	}
}

func TestRunFatalStops(t *testing.T) {
	j := newFakeJudge(t, func(Dimension, string, string, string, int) (int, string) { return http.StatusUnauthorized, "" })
	_, err := Run(t.Context(), Options{Pairs: scenarioPairs(), Judge: j.judge(t)})
	if !errors.Is(err, ErrFatal) {
		t.Fatalf("Run with a rejected key = %v, want ErrFatal", err)
	}
}

func TestRunNoPairs(t *testing.T) {
	if _, err := Run(t.Context(), Options{}); !errors.Is(err, ErrNoPairs) {
		t.Errorf("got %v", err)
	}
}
