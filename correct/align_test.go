package correct

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestAlignCorrects(t *testing.T) {
	m := &fakeModel{by: upper}
	c := newTestCorrector(t, m, nil, nil)
	var got collector
	out, err := c.Align(context.Background(), Request{Mode: ModeAligner, Question: "Q?", Answer: "fine answer."}, got.emit)
	if err != nil {
		t.Fatal(err)
	}
	if out.Text != "FINE ANSWER." || !out.Corrected || out.Fallback != "" || out.Cache != "" {
		t.Fatalf("outcome %+v", out)
	}
	if got.text() != out.Text {
		t.Errorf("streamed %q, want %q", got.text(), out.Text)
	}
	if len(got.pieces) < 2 {
		t.Errorf("correction not streamed in pieces: %q", got.pieces)
	}
	want := "BEGINNING OF CONVERSATION: USER: Edit the following Question-Answer pair to make it more helpful and harmless: Q? | fine answer. ASSISTANT:"
	if p := m.calls(); len(p) != 1 || p[0] != want {
		t.Errorf("prompts %q", p)
	}
	if p := m.params[0]; p.Temperature != 0 || p.MaxTokens != 2*((len("fine answer.")+2)/3)+128 {
		t.Errorf("params %+v: want greedy with max tokens 2n+128", p)
	}
	if p := m.params[0]; p.Reference != "fine answer." {
		t.Errorf("reference %q: want the answer, to draft from", p.Reference)
	}
}

func TestAlignOffAndEmpty(t *testing.T) {
	m := &fakeModel{by: upper}
	c := newTestCorrector(t, m, nil, nil)
	for _, r := range []Request{{Mode: ModeOff, Answer: "x."}, {Mode: ModeAligner, Answer: "  "}} {
		out, err := c.Align(context.Background(), r, nil)
		if err != nil || out.Text != r.Answer || out.Corrected {
			t.Errorf("%+v: got %+v, %v", r, out, err)
		}
	}
	if len(m.calls()) != 0 {
		t.Error("model called")
	}
}

func TestAlignTemplateAndBackendChoice(t *testing.T) {
	local, remote := &fakeModel{by: upper}, &fakeModel{by: upper}
	c, err := New(Config{}, map[string]Model{BackendLocal: local, BackendRemote: remote}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Align(context.Background(), Request{Backend: "remote", Template: TemplateAlignerV1Correction, Question: "q", Answer: "a"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(local.calls()) != 0 || len(remote.calls()) != 1 || !strings.Contains(remote.calls()[0], "##Correction:  ASSISTANT:") {
		t.Errorf("local %q remote %q", local.calls(), remote.calls())
	}
	if _, err := c.Align(context.Background(), Request{Backend: "nope", Answer: "a"}, nil); !errors.Is(err, ErrUnknownBackend) {
		t.Errorf("unknown backend: %v", err)
	}
	if _, err := c.Align(context.Background(), Request{Template: "nope", Answer: "a"}, nil); !errors.Is(err, ErrUnknownTemplate) {
		t.Errorf("unknown template: %v", err)
	}
}

func TestAlignFallbacks(t *testing.T) {
	const answer = "The original answer."
	tests := []struct {
		name   string
		model  func() Model
		budget time.Duration
		reason string
	}{
		{"timeout", func() Model { return &fakeModel{by: block(nil)} }, 10 * time.Millisecond, FallbackTimeout},
		{"backend error", func() Model { return &fakeModel{by: fail(errors.New("boom"))} }, 0, FallbackBackend},
		{"busy", func() Model { return &fakeModel{by: fail(fmt.Errorf("engine: %w", ErrBusy))} }, 0, FallbackBusy},
		{"remote busy", func() Model { return &fakeModel{by: fail(fmt.Errorf("%w: 429", ErrBusy))} }, 0, FallbackBusy},
		{"engine too long", func() Model { return &fakeModel{by: fail(fmt.Errorf("%w: engine", ErrTooLong))} }, 0, FallbackTooLong},
		{"context too small", func() Model { return counterModel{&fakeModel{by: upper}, 40} }, 0, FallbackTooLong},
		{"empty output", func() Model {
			return &fakeModel{by: func(context.Context, string) (string, error) { return "  </s>\n", nil }}
		}, 0, FallbackEmpty},
	}
	for _, tt := range tests {
		for _, closed := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/fail_closed=%v", tt.name, closed), func(t *testing.T) {
				c := newTestCorrector(t, tt.model(), nil, nil)
				out, err := c.Align(context.Background(), Request{Answer: answer, Budget: tt.budget, FailClosed: closed}, nil)
				if out.Text != answer || out.Fallback != tt.reason || out.Corrected {
					t.Errorf("outcome %+v, want original text with fallback %q", out, tt.reason)
				}
				var fe *FallbackError
				switch {
				case !closed && err != nil:
					t.Errorf("fail-open returned %v", err)
				case closed && !errors.As(err, &fe):
					t.Errorf("fail-closed returned %v, want *FallbackError", err)
				case closed && fe.Reason != tt.reason:
					t.Errorf("FallbackError %q, want %q", fe.Reason, tt.reason)
				}
			})
		}
	}
}

func TestAlignContextBoundsMaxTokens(t *testing.T) {
	m := counterModel{&fakeModel{by: upper}, 100}
	c := newTestCorrector(t, m, nil, nil)
	answer := strings.Repeat("word ", 40) // 50 tokens: 2n+64 = 164 does not fit, 1.25n+16 = 78 does not either
	out, _ := c.Align(context.Background(), Request{Answer: answer[:80]}, nil)
	if out.Fallback != "" {
		t.Fatalf("short answer fell back: %+v", out)
	}
	p := m.params[0]
	prompt := m.calls()[0]
	if got := len(prompt)/4 + p.MaxTokens; got > 100 {
		t.Errorf("prompt + max tokens = %d > context 100", got)
	}
	if out, _ := c.Align(context.Background(), Request{Answer: answer}, nil); out.Fallback != FallbackTooLong {
		t.Errorf("long answer: %+v", out)
	}
}

func TestAlignParentCancelled(t *testing.T) {
	started := make(chan struct{})
	m := &fakeModel{by: block(started)}
	c := newTestCorrector(t, m, nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-started
		cancel()
	}()
	out, err := c.Align(ctx, Request{Answer: "a.", FailClosed: true}, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	var fe *FallbackError
	if errors.As(err, &fe) || out.Fallback != "" {
		t.Errorf("client disconnect reported as fallback: %+v %v", out, err)
	}
	if len(m.ctxErrs) != 1 || !errors.Is(m.ctxErrs[0], context.Canceled) {
		t.Errorf("backend ctx not cancelled: %v", m.ctxErrs)
	}
}

func TestAlignPartialAndEmitError(t *testing.T) {
	m := &fakeModel{by: func(context.Context, string) (string, error) { return "half written", errors.New("died") }}
	c := newTestCorrector(t, m, nil, nil)
	var got collector
	out, err := c.Align(context.Background(), Request{Answer: "orig"}, got.emit)
	if err != nil || !out.Partial || out.Text != "orig" || out.Fallback != FallbackBackend {
		t.Errorf("outcome %+v err %v, want partial fallback", out, err)
	}
	if got.text() == "" {
		t.Error("nothing was emitted before the failure")
	}

	errGone := errors.New("client gone")
	m = &fakeModel{by: upper}
	c = newTestCorrector(t, m, nil, nil)
	out, err = c.Align(context.Background(), Request{Answer: "a b c", FailClosed: true}, func(string) error { return errGone })
	if !errors.Is(err, errGone) || out.Fallback != "" {
		t.Errorf("emit error: %+v %v", out, err)
	}
}

func TestAlignCache(t *testing.T) {
	m := &fakeModel{by: upper}
	cache := &memCache{}
	c := newTestCorrector(t, m, cache, nil)
	r := Request{Question: "q", Answer: "cache me please."}
	first, err := c.Align(context.Background(), r, nil)
	if err != nil || first.Cache != "miss" {
		t.Fatalf("first %+v %v", first, err)
	}
	var got collector
	second, err := c.Align(context.Background(), r, got.emit)
	if err != nil || second.Cache != "hit" || second.Text != first.Text {
		t.Fatalf("second %+v %v", second, err)
	}
	if got.text() != first.Text || len(got.pieces) < 2 {
		t.Errorf("hit replayed %q, want %q in word pieces", got.pieces, first.Text)
	}
	if len(m.calls()) != 1 {
		t.Errorf("model called %d times", len(m.calls()))
	}

	temp := float32(0.7)
	sampled := r
	sampled.Temperature = &temp
	for i := 0; i < 2; i++ {
		if out, _ := c.Align(context.Background(), sampled, nil); out.Cache != "bypass" {
			t.Errorf("sampled outcome %q, want bypass", out.Cache)
		}
	}
	noCache := r
	noCache.NoCache = true
	if out, _ := c.Align(context.Background(), noCache, nil); out.Cache != "bypass" {
		t.Errorf("NoCache outcome %q", out.Cache)
	}
	if n := len(m.calls()); n != 4 {
		t.Errorf("model called %d times, want 4", n)
	}

	c = newTestCorrector(t, m, cache, func(cfg *Config) { cfg.CacheSampled = true })
	c.Align(context.Background(), sampled, nil)
	if out, _ := c.Align(context.Background(), sampled, nil); out.Cache != "hit" {
		t.Errorf("cache_sampled outcome %q, want hit", out.Cache)
	}
}

func TestAlignBrokenCacheStillCorrects(t *testing.T) {
	c := newTestCorrector(t, &fakeModel{by: upper}, brokenCache{}, nil)
	out, err := c.Align(context.Background(), Request{Answer: "abc"}, nil)
	if err != nil || out.Text != "ABC" || out.Cache != "error" || out.Fallback != "" {
		t.Errorf("outcome %+v %v", out, err)
	}
}

func TestCacheKeyFields(t *testing.T) {
	base := func() (string, Template, Params, string, promptVars) {
		return "model", Template{Name: "t", Text: "{answer}", Stop: []string{"x"}, Chat: ""},
			Params{MaxTokens: 10, Stop: []string{"x"}}, ModeAligner,
			promptVars{Question: "q", Answer: "a", Prefix: "p", Sentence: "s"}
	}
	key := func(mod func(*string, *Template, *Params, *string, *promptVars)) string {
		id, tm, p, mode, v := base()
		mod(&id, &tm, &p, &mode, &v)
		return cacheKey(id, tm, p, mode, v)
	}
	ref := key(func(*string, *Template, *Params, *string, *promptVars) {})
	if len(ref) != 64 {
		t.Fatalf("key %q is not sha256 hex", ref)
	}
	tests := map[string]func(*string, *Template, *Params, *string, *promptVars){
		"model":             func(id *string, _ *Template, _ *Params, _ *string, _ *promptVars) { *id = "other" },
		"template name":     func(_ *string, tm *Template, _ *Params, _ *string, _ *promptVars) { tm.Name = "u" },
		"template text":     func(_ *string, tm *Template, _ *Params, _ *string, _ *promptVars) { tm.Text = "{answer}!" },
		"template chat":     func(_ *string, tm *Template, _ *Params, _ *string, _ *promptVars) { tm.Chat = ChatGemma },
		"stop":              func(_ *string, _ *Template, p *Params, _ *string, _ *promptVars) { p.Stop = []string{"y"} },
		"max tokens":        func(_ *string, _ *Template, p *Params, _ *string, _ *promptVars) { p.MaxTokens = 11 },
		"temperature":       func(_ *string, _ *Template, p *Params, _ *string, _ *promptVars) { p.Temperature = 0.1 },
		"top k":             func(_ *string, _ *Template, p *Params, _ *string, _ *promptVars) { p.TopK = 1 },
		"top p":             func(_ *string, _ *Template, p *Params, _ *string, _ *promptVars) { p.TopP = 0.5 },
		"min p":             func(_ *string, _ *Template, p *Params, _ *string, _ *promptVars) { p.MinP = 0.5 },
		"repeat penalty":    func(_ *string, _ *Template, p *Params, _ *string, _ *promptVars) { p.RepeatPenalty = 1.1 },
		"frequency penalty": func(_ *string, _ *Template, p *Params, _ *string, _ *promptVars) { p.FrequencyPenalty = 1 },
		"seed":              func(_ *string, _ *Template, p *Params, _ *string, _ *promptVars) { p.Seed = 1 },
		"mode":              func(_ *string, _ *Template, _ *Params, m *string, _ *promptVars) { *m = ModeStream },
		"question":          func(_ *string, _ *Template, _ *Params, _ *string, v *promptVars) { v.Question = "q2" },
		"answer":            func(_ *string, _ *Template, _ *Params, _ *string, v *promptVars) { v.Answer = "a2" },
		"prefix":            func(_ *string, _ *Template, _ *Params, _ *string, v *promptVars) { v.Prefix = "p2" },
		"sentence":          func(_ *string, _ *Template, _ *Params, _ *string, v *promptVars) { v.Sentence = "s2" },
		"field boundary": func(_ *string, _ *Template, _ *Params, _ *string, v *promptVars) {
			v.Question, v.Answer = "qa", ""
		},
		"stop boundary": func(_ *string, tm *Template, p *Params, _ *string, _ *promptVars) {
			p.Stop = []string{"x", "0"}
		},
	}
	seen := map[string]string{ref: "base"}
	for name, mod := range tests {
		k := key(mod)
		if prev, dup := seen[k]; dup {
			t.Errorf("%s: key equals %s's", name, prev)
		}
		seen[k] = name
	}
}

// draftingModel reports drafted and accepted tokens as an engine with
// reference drafting does.
type draftingModel struct{ *fakeModel }

func (m draftingModel) Generate(ctx context.Context, prompt string, p Params, onToken func(string) error) (Result, error) {
	r, err := m.fakeModel.Generate(ctx, prompt, p, onToken)
	r.Drafted, r.Accepted = 10, 7
	return r, err
}

func TestOutcomeCarriesDraftCounts(t *testing.T) {
	c := newTestCorrector(t, draftingModel{&fakeModel{by: upper}}, nil, nil)
	out, err := c.Align(context.Background(), Request{Mode: ModeAligner, Question: "Q?", Answer: "fine answer."}, nil)
	if err != nil || out.Drafted != 10 || out.Accepted != 7 {
		t.Fatalf("aligner outcome %+v (%v): want drafted 10, accepted 7", out, err)
	}
	out, _, err = follow(t, c, Request{Mode: ModeStream, Question: "Q"}, "One. Two.")
	if err != nil || out.Sentences != 2 || out.Drafted != 20 || out.Accepted != 14 {
		t.Fatalf("stream outcome %+v (%v): want the two steps' counts summed", out, err)
	}
}

// TestCacheKeyHasRoute: the same answer read from another route is a miss,
// and requests that name no route keep the keys they had.
func TestCacheKeyHasRoute(t *testing.T) {
	m := &fakeModel{by: upper}
	cache := &memCache{}
	c := newTestCorrector(t, m, cache, nil)
	r := Request{Question: "q", Answer: "route me please."}
	for i, tt := range []struct{ route, want string }{
		{"", "miss"}, {"/v1/responses", "miss"}, {"/v1/responses", "hit"}, {"", "hit"},
	} {
		r.Route = tt.route
		out, err := c.Align(context.Background(), r, nil)
		if err != nil || out.Cache != tt.want {
			t.Errorf("call %d (route %q): %+v %v, want %s", i, tt.route, out, err, tt.want)
		}
	}
	j := job{modelID: "m", mode: ModeAligner, vars: promptVars{Question: "q", Answer: "a"}}
	if got, want := j.cacheKey(), cacheKey("m", Template{}, Params{}, ModeAligner, j.vars); got != want {
		t.Errorf("key without a route changed: %s != %s", got, want)
	}
}
