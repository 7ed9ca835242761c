package correct

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// streamer corrects the segments of one answer in order (Stream Aligner)
// and emits them. It is used from one goroutine.
type streamer struct {
	c        *Corrector
	j        job // template job: vars and original set per sentence
	question string
	emit     func(string) error
	text     strings.Builder // everything emitted
	prefix   string          // the corrected prefix as the model sees it
	out      Outcome
	start    time.Time
	budget   int       // tokens left of Request.AnswerTokens; -1 without a cap
	deadline time.Time // the answer's budget; zero: none
	// stopped is set by a fallback that says the backend is failing
	// (timeout, error, busy, budget): the rest of the answer passes
	// through. A sentence the model left empty, or one too long for the
	// context, is kept as it was and the next sentence is corrected.
	stopped bool
}

// newStreamer prepares a stream correction of r.
func (c *Corrector) newStreamer(r Request, emit func(string) error) (*streamer, error) {
	st := &streamer{c: c, question: r.Question, emit: emit, start: time.Now(), budget: -1}
	if r.AnswerTokens > 0 {
		st.budget = r.AnswerTokens
	}
	if r.Mode == ModeOff {
		st.out.Fallback = "" // pass-through: j.model stays nil
		return st, nil
	}
	j, err := c.newJob(r, ModeStream, c.cfg.Budget.Stream)
	if err != nil {
		return nil, err
	}
	st.j = j
	if b := c.cfg.Budget.Answer; b > 0 {
		st.deadline = st.start.Add(b)
	}
	return st, nil
}

// spent reports whether the answer's budget has run out.
func (st *streamer) spent() bool {
	return !st.deadline.IsZero() && !time.Now().Before(st.deadline)
}

// overBudget handles a sentence met after the answer's budget ran out: it
// and the rest pass through (fail-open) or the answer fails (fail-closed).
func (st *streamer) overBudget(seg Segment) error {
	if st.j.failClosed {
		return &FallbackError{Reason: FallbackBudget, Err: fmt.Errorf("the answer's correction budget of %s ran out", st.deadline.Sub(st.start))}
	}
	st.out.Fallback = FallbackBudget
	return st.passThrough(seg.Text)
}

// handle corrects (or passes through) one segment and emits it. Code,
// whitespace, mode off and every sentence after a fallback pass through
// unchanged: once the model failed for one sentence the rest of the answer
// is not held up by it again.
//
// Once the client's cap on the answer (Request.AnswerTokens) is spent, the
// rest of the answer is dropped and Outcome.Cut is set.
func (st *streamer) handle(ctx context.Context, seg Segment) error {
	if st.out.Cut {
		return nil
	}
	// Once nothing more goes to the model the prefix is not kept: on a
	// long answer its copies would cost time quadratic in the length.
	passing := st.j.model == nil || st.stopped
	if seg.Code {
		if !passing {
			st.prefix += seg.Text
		}
		return st.passThrough(seg.Text)
	}
	lead, core, trail := splitSpace(seg.Text)
	if core == "" {
		return st.write(seg.Text)
	}
	if st.budget == 0 {
		st.out.Cut = true
		return nil
	}
	st.out.Sentences++
	if passing {
		return st.passThrough(seg.Text)
	}
	if st.budget > 0 {
		st.j.answerCap = st.budget
	}
	if st.spent() {
		return st.overBudget(seg)
	}
	res := st.correct(ctx, core)
	st.tally(res)
	st.stopped = res.fallback != "" && res.fallback != FallbackEmpty && res.fallback != FallbackTooLong
	if res.err != nil {
		return res.err
	}
	if res.text != core {
		st.out.Corrected = true
	}
	st.prefix = joinPrefix(st.prefix, res.text)
	st.out.Cut = res.cut
	if st.spend(res, res.text) {
		st.budget = 0
	}
	return st.write(lead + res.text + trail)
}

// passThrough emits upstream text unchanged, counting it against the cap.
func (st *streamer) passThrough(text string) error {
	if st.spend(result{}, text) {
		st.budget = 0
	}
	return st.write(text)
}

// correct corrects one sentence. When the prompt does not fit the model
// context, the prefix shown to the model is cut to its later half (at a
// word boundary), repeatedly, before giving up with too_long.
func (st *streamer) correct(ctx context.Context, sentence string) result {
	j := st.j
	j.original = sentence
	if !st.deadline.IsZero() {
		j.budget = min(j.budget, time.Until(st.deadline))
	}
	prefix := st.prefix
	for {
		j.vars = promptVars{Question: st.question, Prefix: prefix, Sentence: sentence}
		res := st.c.run(ctx, j)
		if res.fallback != FallbackTooLong || prefix == "" {
			return st.budgetReason(res)
		}
		prefix = laterHalf(prefix)
	}
}

// budgetReason names a sentence's timeout "budget" when what ran out was
// the answer's budget rather than the sentence's own.
func (st *streamer) budgetReason(res result) result {
	if res.fallback != FallbackTimeout || !st.spent() {
		return res
	}
	res.fallback = FallbackBudget
	var fe *FallbackError
	if errors.As(res.err, &fe) {
		fe.Reason = FallbackBudget
	}
	return res
}

// laterHalf returns the words of s after its middle.
func laterHalf(s string) string {
	i := strings.IndexFunc(s[len(s)/2:], isSpace)
	if i < 0 {
		return ""
	}
	return strings.TrimLeftFunc(s[len(s)/2+i:], isSpace)
}

// tally adds a sentence's result to the outcome.
func (st *streamer) tally(res result) {
	st.out.TokensIn += res.tokensIn
	st.out.TokensOut += res.tokensOut
	st.out.Drafted += res.drafted
	st.out.Accepted += res.accepted
	if st.out.Fallback == "" {
		st.out.Fallback = res.fallback
	}
	switch {
	case st.out.Cache == "" || st.out.Cache == "hit":
		st.out.Cache = res.cache
	case res.cache == "error":
		st.out.Cache = "error"
	case res.cache == "miss" && st.out.Cache != "error":
		st.out.Cache = "miss"
	}
}

// write emits text and records it.
func (st *streamer) write(text string) error {
	if text == "" {
		return nil
	}
	if err := st.emit(text); err != nil {
		return err
	}
	st.text.WriteString(text)
	return nil
}

// outcome returns the Outcome so far.
func (st *streamer) outcome() Outcome {
	out := st.out
	out.Text = st.text.String()
	out.Duration = time.Since(st.start)
	return out
}

// joinPrefix appends a revision to the model prefix as Stream Aligner does:
// the old prefix, a space, the revision (no space after whitespace).
func joinPrefix(prefix, s string) string {
	if prefix == "" || strings.HasSuffix(prefix, " ") || strings.HasSuffix(prefix, "\n") {
		return prefix + s
	}
	return prefix + " " + s
}

// splitSpace splits s into leading whitespace, content, trailing whitespace.
func splitSpace(s string) (lead, core, trail string) {
	core = strings.TrimLeftFunc(s, isSpace)
	lead = s[:len(s)-len(core)]
	t := strings.TrimRightFunc(core, isSpace)
	return lead, t, core[len(t):]
}
