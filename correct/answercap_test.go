package correct

import (
	"context"
	"strings"
	"testing"
)

// capModel answers every prompt with text, one token per word, honouring
// Params.MaxTokens as a real backend does.
type capModel struct {
	text   string
	params []Params
}

func (m *capModel) Generate(_ context.Context, _ string, p Params, onToken func(string) error) (Result, error) {
	m.params = append(m.params, p)
	words := wordPieces(m.text)
	res := Result{FinishReason: "stop", PromptTokens: 7}
	if p.MaxTokens > 0 && len(words) > p.MaxTokens {
		words, res.FinishReason = words[:p.MaxTokens], "length"
	}
	for _, w := range words {
		res.CompletionTokens++
		if onToken != nil {
			if err := onToken(w); err != nil {
				return res, err
			}
		}
	}
	res.Text = strings.Join(words, "")
	return res, nil
}

func newCapCorrector(t *testing.T, m Model, cache Cache) *Corrector {
	t.Helper()
	c, err := New(Config{}, map[string]Model{BackendLocal: m}, cache, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestAlignAnswerTokensCaps: the client's cap bounds the correction, a cut
// correction says so, is kept out of the cache, and an uncut one does not
// say so.
func TestAlignAnswerTokensCaps(t *testing.T) {
	m := &capModel{text: "one two three four five six seven eight"}
	cache := &memCache{m: map[string]string{}}
	c := newCapCorrector(t, m, cache)
	r := Request{Mode: ModeAligner, Question: "Q?", Answer: "A short answer here.", AnswerTokens: 3}
	o, err := c.Align(context.Background(), r, nil)
	if err != nil {
		t.Fatal(err)
	}
	if o.Text != "one two three" || !o.Cut || o.TokensOut != 3 || o.Cache != "bypass" {
		t.Errorf("capped: %+v", o)
	}
	if got := m.params[len(m.params)-1].MaxTokens; got != 3 {
		t.Errorf("MaxTokens %d, want the client's 3", got)
	}
	if len(cache.m) != 0 {
		t.Errorf("a correction bounded by the client's cap was cached: %v", cache.m)
	}
	r.AnswerTokens = 1000 // above the length bound: not binding
	if o, err = c.Align(context.Background(), r, nil); err != nil || o.Cut || o.Text != m.text {
		t.Errorf("cap not binding: %+v, %v", o, err)
	}
	r.AnswerTokens = 20 // binding, but the correction ends first
	if o, err = c.Align(context.Background(), r, nil); err != nil || o.Cut || o.Text != m.text {
		t.Errorf("cap not reached: %+v, %v", o, err)
	}
}

// TestFollowAnswerTokensSpansSentences: in stream mode the cap covers the
// whole answer: later sentences get what the earlier ones left, and once
// it is spent the rest is dropped.
func TestFollowAnswerTokensSpansSentences(t *testing.T) {
	m := &capModel{text: "alpha beta gamma."}
	c := newCapCorrector(t, m, nil)
	var got strings.Builder
	sess := c.Follow(context.Background(), Request{Mode: ModeStream, Question: "Q?", AnswerTokens: 5},
		func(s string) error { got.WriteString(s); return nil })
	if err := sess.Write("First sentence here. Second sentence here. Third sentence here."); err != nil {
		t.Fatal(err)
	}
	o, err := sess.Close()
	if err != nil {
		t.Fatal(err)
	}
	if text := got.String(); text != "alpha beta gamma. alpha beta" || !o.Cut || o.TokensOut != 5 {
		t.Errorf("text %q, outcome %+v", text, o)
	}
	if len(m.params) != 2 || m.params[0].MaxTokens != 5 || m.params[1].MaxTokens != 2 {
		t.Errorf("caps per sentence: %+v", m.params)
	}
}

// TestGuideAnswerTokensStopsRounds: in guide drive the cap covers the whole
// answer too; once it is spent no further upstream round is asked for.
func TestGuideAnswerTokensStopsRounds(t *testing.T) {
	m := &capModel{text: "alpha beta gamma."}
	c := newCapCorrector(t, m, nil)
	up := &fakeUpstream{script: []string{"First.", " Second.", " Third.", " Fourth."}}
	var got strings.Builder
	o, err := c.Guide(context.Background(), Request{Mode: ModeStream, Question: "Q?", AnswerTokens: 6}, up,
		func(s string) error { got.WriteString(s); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != "alpha beta gamma. alpha beta gamma." || !o.Cut || o.Rounds != 2 || len(up.prefixes) != 2 {
		t.Errorf("text %q, outcome %+v, upstream rounds %d", got.String(), o, len(up.prefixes))
	}
}
