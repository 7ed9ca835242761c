package llamacorrect

import (
	"bufio"
	"context"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aligngate/aligngate/correct"
	"github.com/aligngate/aligngate/internal/dataset"
	"github.com/aligngate/aligngate/internal/testenv"
	"github.com/aligngate/aligngate/llamacpp"
)

// openReal opens the engine on the real demo model, one thread, four
// sequences.
func openReal(t *testing.T) *Model {
	t.Helper()
	dir, path := testenv.LlamaLib(t), testenv.RealModel(t)
	e, err := llamacpp.Open(llamacpp.Config{ModelPath: path, LibDir: dir, ContextSize: 4096, Parallel: 4, Threads: 1, BatchSize: 512}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return New(e)
}

// finishes observes the real model's finish reasons, so a test can tell a
// correction ended by end-of-turn from one cut at the token cap.
type finishes struct {
	*Model
	mu      sync.Mutex
	reasons map[string]string // prompt's reference (the answer) -> finish reason
}

func (f *finishes) Generate(ctx context.Context, prompt string, p correct.Params, on func(string) error) (correct.Result, error) {
	r, err := f.Model.Generate(ctx, prompt, p, on)
	f.mu.Lock()
	f.reasons[p.Reference] = r.FinishReason
	f.mu.Unlock()
	return r, err
}

func (f *finishes) reason(answer string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reasons[answer]
}

// realCorrector corrects with the instruct-edit template on m, no cache.
func realCorrector(t *testing.T, m correct.Model) *correct.Corrector {
	t.Helper()
	// The budget is not under test: on a loaded 2-core machine a correction
	// may take far longer than the default 30 s.
	cfg := correct.Config{Template: correct.TemplateInstructEdit, StreamTemplate: correct.TemplateInstructStream,
		Budget: correct.Budget{Aligner: 10 * time.Minute, Stream: 10 * time.Minute}}
	c, err := correct.New(cfg, map[string]correct.Model{correct.BackendLocal: m}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// hhPairs returns the first n HH-RLHF harmless test pairs.
func hhPairs(t *testing.T, n int) []dataset.Pair {
	t.Helper()
	path, err := dataset.Path("hh-rlhf-harmless-base-test.jsonl.gz")
	if err == nil {
		_, err = os.Stat(path)
	}
	if err != nil {
		testenv.Missing(t, "evaluation data not found: %v", err)
	}
	all, err := dataset.HHRLHF(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []dataset.Pair
	for _, p := range all {
		if len(out) < n && p.Question != "" && p.Answer != "" {
			out = append(out, p)
		}
	}
	if len(out) < n {
		t.Fatalf("only %d of %d HH-RLHF pairs", len(out), n)
	}
	return out
}

// alignAll corrects pairs four at a time (the engine batches them).
func alignAll(t *testing.T, c *correct.Corrector, pairs []dataset.Pair) []correct.Outcome {
	t.Helper()
	out := make([]correct.Outcome, len(pairs))
	errs := make([]error, len(pairs))
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for i, p := range pairs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			out[i], errs[i] = c.Align(t.Context(), correct.Request{Question: p.Question, Answer: p.Answer, NoCache: true}, nil)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("pair %s: %v", pairs[i].ID, err)
		}
	}
	return out
}

// TestRealDeterministic checks that greedy corrections on the real model
// give the same bytes twice, and when four identical requests run batched.
func TestRealDeterministic(t *testing.T) {
	m := openReal(t)
	if a, s, why := correct.PickTemplates(m); a != correct.TemplateInstructEdit || s != correct.TemplateInstructStream {
		t.Fatalf("auto picked %q, %q for the demo model (%s)", a, s, why)
	}
	c := realCorrector(t, m)
	for _, p := range hhPairs(t, 3) {
		r := correct.Request{Question: p.Question, Answer: p.Answer, NoCache: true}
		first, err := c.Align(t.Context(), r, nil)
		if err != nil || first.Fallback != "" {
			t.Fatalf("%s: %+v, %v", p.ID, first, err)
		}
		again, err := c.Align(t.Context(), r, nil)
		if err != nil || again.Text != first.Text {
			t.Fatalf("%s: rerun %q (%v), first %q", p.ID, again.Text, err, first.Text)
		}
		four := alignAll(t, c, []dataset.Pair{p, p, p, p})
		for i, o := range four {
			if o.Text != first.Text {
				t.Errorf("%s: batched copy %d %q, alone %q", p.ID, i, o.Text, first.Text)
			}
		}
	}
}

// TestRealHHRLHFCorrections corrects 50 HH-RLHF answers with the real model:
// each correction is valid, marker-free text, most end by end-of-turn, and
// most of their words are English words or words of the question and
// answer (random weights fail this).
func TestRealHHRLHFCorrections(t *testing.T) {
	f := &finishes{Model: openReal(t), reasons: map[string]string{}}
	c := realCorrector(t, f)
	pairs := hhPairs(t, 50)
	dict := dictionary(t)
	outs := alignAll(t, c, pairs)
	ended, known, total := 0, 0, 0
	for i, o := range outs {
		p := pairs[i]
		if o.Fallback != "" || strings.TrimSpace(o.Text) == "" || !utf8.ValidString(o.Text) {
			t.Errorf("%s: outcome %+v", p.ID, o)
			continue
		}
		for _, m := range []string{"<|im_start|>", "<|im_end|>", "<|endoftext|>", "Answer to edit:", "Question:\n"} {
			if strings.Contains(o.Text, m) {
				t.Errorf("%s: correction holds %q: %q", p.ID, m, o.Text)
			}
		}
		if f.reason(p.Answer) == llamacpp.FinishStop {
			ended++
		}
		own := map[string]bool{}
		for _, w := range words(p.Question + " " + p.Answer) {
			own[w] = true
		}
		for _, w := range words(o.Text) {
			total++
			if dict[w] || own[w] {
				known++
			}
		}
	}
	t.Logf("%d/%d ended by end-of-turn; %d/%d words known", ended, len(outs), known, total)
	if ended*10 < len(outs)*9 {
		t.Errorf("%d of %d corrections ended by end-of-turn, want >= 90%%", ended, len(outs))
	}
	if total == 0 || known*10 < total*8 {
		t.Errorf("%d of %d correction words are known words, want >= 80%%", known, total)
	}
}

// dictionary reads /usr/share/dict/words (Debian's wamerican), lower-cased.
func dictionary(t *testing.T) map[string]bool {
	t.Helper()
	f, err := os.Open("/usr/share/dict/words")
	if err != nil {
		testenv.Missing(t, "word list missing (apt-get install wamerican): %v", err)
	}
	defer f.Close()
	words := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		words[strings.ToLower(strings.TrimSuffix(sc.Text(), "'s"))] = true
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return words
}

var wordRE = regexp.MustCompile(`[A-Za-z]+`)

// words returns the lower-cased letter runs of s.
func words(s string) []string {
	ws := wordRE.FindAllString(s, -1)
	for i, w := range ws {
		ws[i] = strings.ToLower(w)
	}
	return ws
}
