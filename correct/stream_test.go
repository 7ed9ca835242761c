package correct

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// follow writes chunks to a session and closes it.
func follow(t *testing.T, c *Corrector, r Request, chunks ...string) (Outcome, *collector, error) {
	t.Helper()
	var got collector
	s := c.Follow(context.Background(), r, got.emit)
	for _, ch := range chunks {
		if err := s.Write(ch); err != nil {
			out, cerr := s.Close()
			return out, &got, errors.Join(err, cerr)
		}
	}
	out, err := s.Close()
	return out, &got, err
}

func TestFollowPrefixGrows(t *testing.T) {
	m := &fakeModel{by: upper}
	c := newTestCorrector(t, m, nil, nil)
	out, got, err := follow(t, c, Request{Mode: ModeStream, Question: "Q"}, "First one. Sec", "ond one.\n", "Third")
	if err != nil {
		t.Fatal(err)
	}
	want := "FIRST ONE. SECOND ONE.\nTHIRD"
	if out.Text != want || got.text() != want || !out.Corrected || out.Sentences != 3 {
		t.Fatalf("outcome %+v emitted %q", out, got.text())
	}
	var prefixes, sentences []string
	for _, p := range m.calls() {
		pre, sen := streamFields(t, p)
		prefixes, sentences = append(prefixes, pre), append(sentences, sen)
	}
	if want := []string{"", "FIRST ONE.", "FIRST ONE. SECOND ONE."}; !slices.Equal(prefixes, want) {
		t.Errorf("prefixes %q, want %q", prefixes, want)
	}
	if want := []string{"First one.", "Second one.", "Third"}; !slices.Equal(sentences, want) {
		t.Errorf("sentences %q, want %q", sentences, want)
	}
	// Each step hands the backend its sentence as the reference to draft from.
	for i, p := range m.params {
		if p.Reference != sentences[i] {
			t.Errorf("step %d reference %q, want the sentence %q", i, p.Reference, sentences[i])
		}
	}
	if !strings.HasPrefix(m.calls()[0], "<start_of_turn>user\n##Question: Q | ") {
		t.Errorf("prompt %q", m.calls()[0])
	}
}

func TestFollowCodePassesThrough(t *testing.T) {
	m := &fakeModel{by: upper}
	c := newTestCorrector(t, m, nil, nil)
	code := "```python\nprint('do not. touch me!')\n```\n"
	out, got, err := follow(t, c, Request{Mode: ModeStream}, "Run this:\n", code[:9], code[9:], "then stop.")
	if err != nil {
		t.Fatal(err)
	}
	want := "RUN THIS:\n" + code + "THEN STOP."
	if out.Text != want || got.text() != want {
		t.Fatalf("got %q, want %q", got.text(), want)
	}
	for _, p := range m.calls() {
		if _, s := streamFields(t, p); strings.Contains(s, "touch") || strings.Contains(s, "```") {
			t.Errorf("code sent to the model: %q", s)
		}
	}
	if len(m.calls()) != 2 {
		t.Errorf("%d model calls, want 2", len(m.calls()))
	}
}

// TestFollowEmitsBeforeLaterText checks that a corrected sentence is emitted
// while the upstream is still streaming, and that Write does not wait for
// the model.
func TestFollowEmitsBeforeLaterText(t *testing.T) {
	release := make(chan struct{})
	m := &fakeModel{by: func(ctx context.Context, p string) (string, error) {
		select {
		case <-release:
		case <-ctx.Done():
			return "", ctx.Err()
		}
		return upper(ctx, p)
	}}
	c := newTestCorrector(t, m, nil, nil)
	emitted := make(chan string, 10)
	s := c.Follow(context.Background(), Request{Mode: ModeStream}, func(text string) error {
		emitted <- text
		return nil
	})
	// The model is blocked: these Writes must return anyway.
	for _, ch := range []string{"One. ", "Two. ", "Thr"} {
		if err := s.Write(ch); err != nil {
			t.Fatal(err)
		}
	}
	close(release)
	if got := <-emitted; got != "ONE." {
		t.Fatalf("first emit %q", got)
	}
	if got := <-emitted; got != " TWO." {
		t.Fatalf("second emit %q", got)
	}
	// Both corrections were emitted before the rest of the answer arrived.
	if err := s.Write("ee."); err != nil {
		t.Fatal(err)
	}
	out, err := s.Close()
	if err != nil || out.Text != "ONE. TWO. THREE." {
		t.Fatalf("%+v %v", out, err)
	}
}

func TestFollowFallbackKeepsSentences(t *testing.T) {
	m := &fakeModel{by: secondCall("", errors.New("boom"))}
	c := newTestCorrector(t, m, nil, nil)
	out, _, err := follow(t, c, Request{Mode: ModeStream}, "one. two. three. four.")
	if err != nil {
		t.Fatal(err)
	}
	if out.Text != "ONE. two. three. four." || out.Fallback != FallbackBackend || out.Sentences != 4 {
		t.Fatalf("outcome %+v", out)
	}
	if len(m.calls()) != 2 {
		t.Errorf("%d model calls after a fallback, want 2", len(m.calls()))
	}
}

// TestFollowEmptySentenceContinues checks that a sentence the model leaves
// empty is kept as it was and the next sentences are still corrected (an
// empty output says nothing about the backend, unlike an error).
func TestFollowEmptySentenceContinues(t *testing.T) {
	m := &fakeModel{by: secondCall("  ", nil)}
	c := newTestCorrector(t, m, nil, nil)
	out, _, err := follow(t, c, Request{Mode: ModeStream}, "one. two. three. four.")
	if err != nil {
		t.Fatal(err)
	}
	if out.Text != "ONE. two. THREE. FOUR." || out.Fallback != FallbackEmpty || !out.Corrected || out.Sentences != 4 {
		t.Fatalf("outcome %+v", out)
	}
	if len(m.calls()) != 4 {
		t.Errorf("%d model calls, want 4: one per sentence", len(m.calls()))
	}
}

func TestFollowFailClosed(t *testing.T) {
	m := &fakeModel{by: fail(errors.New("boom"))}
	c := newTestCorrector(t, m, nil, nil)
	var got collector
	s := c.Follow(context.Background(), Request{Mode: ModeStream, FailClosed: true}, got.emit)
	_ = s.Write("one. two. three.")
	out, err := s.Close()
	var fe *FallbackError
	if !errors.As(err, &fe) || fe.Reason != FallbackBackend {
		t.Fatalf("err %v, want *FallbackError", err)
	}
	if out.Text != "" || got.text() != "" {
		t.Errorf("emitted %q after a fail-closed failure", got.text())
	}
	if err := s.Write("more."); !errors.As(err, &fe) {
		t.Errorf("Write after failure: %v", err)
	}
}

func TestFollowParentCancelled(t *testing.T) {
	started := make(chan struct{})
	m := &fakeModel{by: block(started)}
	c := newTestCorrector(t, m, nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	s := c.Follow(ctx, Request{Mode: ModeStream}, func(string) error { return nil })
	if err := s.Write("Sentence one. Two"); err != nil {
		t.Fatal(err)
	}
	<-started
	cancel()
	out, err := s.Close()
	if !errors.Is(err, context.Canceled) || out.Fallback != "" {
		t.Fatalf("%+v %v, want context.Canceled and no fallback", out, err)
	}
	if len(m.ctxErrs) != 1 || !errors.Is(m.ctxErrs[0], context.Canceled) {
		t.Errorf("backend ctx: %v", m.ctxErrs)
	}
}

func TestFollowEmitErrorStops(t *testing.T) {
	errGone := errors.New("client gone")
	c := newTestCorrector(t, &fakeModel{by: upper}, nil, nil)
	s := c.Follow(context.Background(), Request{Mode: ModeStream}, func(string) error { return errGone })
	_ = s.Write("a. b. c.")
	if _, err := s.Close(); !errors.Is(err, errGone) {
		t.Fatalf("err %v", err)
	}
}

func TestFollowModeOff(t *testing.T) {
	m := &fakeModel{by: upper}
	c := newTestCorrector(t, m, nil, nil)
	out, _, err := follow(t, c, Request{Mode: ModeOff}, "a. b.")
	if err != nil || out.Text != "a. b." || out.Corrected || len(m.calls()) != 0 {
		t.Fatalf("%+v %v", out, err)
	}
}

func TestFollowCache(t *testing.T) {
	m := &fakeModel{by: upper}
	c := newTestCorrector(t, m, &memCache{}, nil)
	first, _, _ := follow(t, c, Request{Mode: ModeStream, Question: "q"}, "one. two.")
	second, got, err := follow(t, c, Request{Mode: ModeStream, Question: "q"}, "one. two.")
	if err != nil || first.Cache != "miss" || second.Cache != "hit" || got.text() != first.Text {
		t.Fatalf("first %+v second %+v emitted %q", first, second, got.text())
	}
	if len(m.calls()) != 2 {
		t.Errorf("%d model calls, want 2", len(m.calls()))
	}
	// A different question changes every sentence's key.
	follow(t, c, Request{Mode: ModeStream, Question: "other"}, "one. two.")
	if len(m.calls()) != 4 {
		t.Errorf("%d model calls, want 4", len(m.calls()))
	}
}

// fakeUpstream answers guide rounds from a script and records prefixes.
type fakeUpstream struct {
	script   []string
	prefixes []string
	err      error
}

func (u *fakeUpstream) Next(_ context.Context, prefix string) (string, bool, error) {
	u.prefixes = append(u.prefixes, prefix)
	if u.err != nil {
		return "", false, u.err
	}
	i := len(u.prefixes) - 1
	if i >= len(u.script) {
		return "", true, nil
	}
	return u.script[i], i == len(u.script)-1, nil
}

func TestGuide(t *testing.T) {
	m := &fakeModel{by: upper}
	c := newTestCorrector(t, m, nil, nil)
	up := &fakeUpstream{script: []string{"First.", " Second.", "\n- item"}}
	var got collector
	out, err := c.Guide(context.Background(), Request{Mode: ModeStream, Question: "q"}, up, got.emit)
	if err != nil {
		t.Fatal(err)
	}
	want := "FIRST. SECOND.\n- ITEM"
	if out.Text != want || got.text() != want || out.Rounds != 3 || out.Truncated {
		t.Fatalf("outcome %+v", out)
	}
	if wantP := []string{"", "FIRST.", "FIRST. SECOND."}; !slices.Equal(up.prefixes, wantP) {
		t.Errorf("upstream prefixes %q, want %q", up.prefixes, wantP)
	}
	var prefixes []string
	for _, p := range m.calls() {
		pre, _ := streamFields(t, p)
		prefixes = append(prefixes, pre)
	}
	if wantP := []string{"", "FIRST.", "FIRST. SECOND."}; !slices.Equal(prefixes, wantP) {
		t.Errorf("model prefixes %q, want %q", prefixes, wantP)
	}
}

func TestGuideMaxRoundsAndErrors(t *testing.T) {
	c := newTestCorrector(t, &fakeModel{by: upper}, nil, func(cfg *Config) { cfg.MaxRounds = 2 })
	up := &fakeUpstream{script: []string{"a.", " b.", " c.", " d."}}
	out, err := c.Guide(context.Background(), Request{Mode: ModeStream}, up, func(string) error { return nil })
	if err != nil || !out.Truncated || out.Rounds != 2 || out.Text != "A. B." {
		t.Fatalf("%+v %v", out, err)
	}
	boom := errors.New("upstream down")
	_, err = c.Guide(context.Background(), Request{Mode: ModeStream}, &fakeUpstream{err: boom}, func(string) error { return nil })
	if !errors.Is(err, boom) {
		t.Fatalf("err %v", err)
	}
}

func TestFollowLongPrefixIsCut(t *testing.T) {
	m := counterModel{&fakeModel{by: upper}, 70}
	c := newTestCorrector(t, m, nil, nil)
	answer := strings.TrimSpace(strings.Repeat("Short words here. ", 12)) + " Last one."
	out, _, err := follow(t, c, Request{Mode: ModeStream}, answer)
	if err != nil || out.Fallback != "" || out.Text != strings.ToUpper(answer) {
		t.Fatalf("%+v %v", out, err)
	}
	calls := m.calls()
	prefix, sentence := streamFields(t, calls[len(calls)-1])
	full := strings.ToUpper(strings.TrimSuffix(answer, " Last one."))
	if sentence != "Last one." || prefix == "" || !strings.HasSuffix(prefix, "SHORT WORDS HERE.") || len(prefix) >= len(full) {
		t.Errorf("last prompt prefix %q sentence %q: want a cut prefix ending in the last revision", prefix, sentence)
	}
}

func TestFollowFallbackReasons(t *testing.T) {
	tests := []struct {
		name   string
		model  Model
		budget time.Duration
		reason string
	}{
		{"timeout", &fakeModel{by: block(nil)}, 10 * time.Millisecond, FallbackTimeout},
		{"busy", &fakeModel{by: fail(fmt.Errorf("engine: %w", ErrBusy))}, 0, FallbackBusy},
		{"too long", counterModel{&fakeModel{by: upper}, 20}, 0, FallbackTooLong},
		{"error", &fakeModel{by: fail(errors.New("boom"))}, 0, FallbackBackend},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newTestCorrector(t, tt.model, nil, nil)
			out, got, err := follow(t, c, Request{Mode: ModeStream, Budget: tt.budget}, "One here. Two ", "here.")
			if err != nil || out.Fallback != tt.reason || out.Text != "One here. Two here." || got.text() != out.Text {
				t.Errorf("%+v %v", out, err)
			}
		})
	}
}

func TestStreamRejectsAlignerTemplate(t *testing.T) {
	c := newTestCorrector(t, &fakeModel{by: upper}, nil, nil)
	_, _, err := follow(t, c, Request{Mode: ModeStream, Template: TemplateAlignerV1}, "a. b.")
	if !errors.Is(err, ErrTemplateMode) {
		t.Errorf("follow: %v", err)
	}
	if _, err := c.Align(context.Background(), Request{Template: TemplateStreamGemma, Answer: "a"}, nil); !errors.Is(err, ErrTemplateMode) {
		t.Errorf("align: %v", err)
	}
}

// secondCall upper-cases like upper, except that the second generation
// returns out and err.
func secondCall(out string, err error) func(context.Context, string) (string, error) {
	var n atomic.Int32
	return func(ctx context.Context, p string) (string, error) {
		if n.Add(1) == 2 {
			return out, err
		}
		return upper(ctx, p)
	}
}
