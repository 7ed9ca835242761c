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
	deadline time.Time // the answer's budget; zero: none
}

// newStreamer prepares a stream correction of r.
func (c *Corrector) newStreamer(r Request, emit func(string) error) (*streamer, error) {
	st := &streamer{c: c, question: r.Question, emit: emit, start: time.Now()}
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
	return st.write(seg.Text)
}

// handle corrects (or passes through) one segment and emits it. Code,
// whitespace, mode off and every sentence after a fallback pass through
// unchanged: once the model failed for one sentence the rest of the answer
// is not held up by it again.
func (st *streamer) handle(ctx context.Context, seg Segment) error {
	// Once nothing more goes to the model the prefix is not kept: on a
	// long answer its copies would cost time quadratic in the length.
	passing := st.j.model == nil || st.out.Fallback != ""
	if seg.Code {
		if !passing {
			st.prefix += seg.Text
		}
		return st.write(seg.Text)
	}
	lead, core, trail := splitSpace(seg.Text)
	if core == "" {
		return st.write(seg.Text)
	}
	st.out.Sentences++
	if passing {
		return st.write(seg.Text)
	}
	if st.spent() {
		return st.overBudget(seg)
	}
	res := st.correct(ctx, core)
	st.tally(res)
	if res.err != nil {
		return res.err
	}
	if res.text != core {
		st.out.Corrected = true
	}
	st.prefix = joinPrefix(st.prefix, res.text)
	return st.write(lead + res.text + trail)
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
