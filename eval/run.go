package eval

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"

	openai "github.com/sashabaranov/go-openai"
	"golang.org/x/sync/errgroup"
)

// Failed is the outcome of a pair whose judge calls kept failing (after
// retries); it is not stored, so a rerun tries it again. It does not count
// in ω.
const Failed Outcome = "failed"

// Judge asks a chat model for pairwise verdicts: Chatter when set (e.g. a
// local model), else the OpenAI-compatible Client.
type Judge struct {
	Client *openai.Client
	// Model names the judge: the model requested from Client, and the
	// judge's identity in the state file and the report.
	Model   string
	Chatter Chatter
	// Retry bounds retries of failed calls and of unparsable replies (a
	// greedy local judge only repeats itself: give it Attempts 1).
	Retry Retry
}

// chatter returns the Chatter the judge calls go to.
func (j Judge) chatter() Chatter {
	if j.Chatter != nil {
		return j.Chatter
	}
	return OpenAIChatter{Client: j.Client, Model: j.Model, Retry: j.Retry}
}

// Options configures Run.
type Options struct {
	Pairs       []Pair
	Judge       Judge
	Dimensions  []Dimension // default DefaultDimensions
	Concurrency int         // judge calls in flight; default 4
	State       *State      // judgements to reuse and store; nil: in memory
	Progress    io.Writer   // progress display; nil: none
	Logger      *slog.Logger
	Seed        uint64 // bootstrap seed; fixed by default (0)
	Bootstrap   int    // bootstrap resamples; default 2000
}

// PairResult is one pair's outcomes and the verdicts they came from.
type PairResult struct {
	Pair     Pair
	Outcomes map[Dimension]Outcome
	// Verdicts holds, per dimension, the verdicts in Orders order.
	Verdicts map[Dimension][2]Verdict
}

// Report is the result of a run.
type Report struct {
	Judge      string
	Dimensions []Summary
	Pairs      []PairResult
	// About says what was corrected by what and who judged; the caller
	// fills it, and the report shows what is set.
	About About
}

type task struct {
	pair  *Pair
	dim   Dimension
	order Order
}

// Run judges every pair in both orders on every dimension and summarises.
// Pairs whose answers are identical are ties without a judge call. A call
// error that retries cannot fix marks the pair Failed; only ErrFatal
// errors (bad key, unknown model) or a cancelled ctx stop the run.
func Run(ctx context.Context, o Options) (*Report, error) {
	o = o.withDefaults()
	if len(o.Pairs) == 0 {
		return nil, ErrNoPairs
	}
	var tasks []task
	for i := range o.Pairs {
		p := &o.Pairs[i]
		if p.Original == p.Corrected {
			continue
		}
		for _, d := range o.Dimensions {
			for _, ord := range Orders {
				tasks = append(tasks, task{p, d, ord})
			}
		}
	}
	verdicts, err := o.judgeAll(ctx, tasks)
	if err != nil {
		return nil, err
	}
	rep := &Report{Judge: o.Judge.Model}
	for _, p := range o.Pairs {
		rep.Pairs = append(rep.Pairs, result(p, o.Dimensions, verdicts))
	}
	for _, d := range o.Dimensions {
		rep.Dimensions = append(rep.Dimensions, Summarize(d, rep.Pairs, o.Bootstrap, o.Seed))
	}
	return rep, nil
}

func (o Options) withDefaults() Options {
	if len(o.Dimensions) == 0 {
		o.Dimensions = DefaultDimensions
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.State == nil {
		o.State, _ = OpenState("", o.Judge.Model)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Bootstrap <= 0 {
		o.Bootstrap = 2000
	}
	o.Judge.Retry = o.Judge.Retry.withDefaults()
	return o
}

// judgeAll runs the tasks with bounded concurrency and returns the
// verdicts obtained; failed calls are absent.
func (o Options) judgeAll(ctx context.Context, tasks []task) (map[stateKey]Verdict, error) {
	var mu sync.Mutex
	verdicts := make(map[stateKey]Verdict, len(tasks))
	prog := newProgress(o.Progress, len(tasks))
	defer prog.finish()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(o.Concurrency)
	for _, t := range tasks {
		g.Go(func() error {
			defer prog.step()
			v, err := o.judgeOne(gctx, t)
			if errors.Is(err, ErrFatal) || gctx.Err() != nil {
				return err
			}
			if err != nil {
				o.Logger.Warn("judge call failed; pair counted as failed", "pair", t.pair.ID, "dimension", t.dim, "order", t.order, "err", err)
				return nil
			}
			mu.Lock()
			verdicts[stateKey{t.pair.ID, t.dim, t.order}] = v
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("eval: %w", err)
	}
	return verdicts, nil
}

// judgeOne returns the stored verdict or asks the judge, retrying an
// unparsable reply up to Retry.Attempts times before storing it as such.
func (o Options) judgeOne(ctx context.Context, t task) (Verdict, error) {
	if j, ok := o.State.Lookup(t.pair.ID, t.dim, t.order); ok {
		return j.Verdict, nil
	}
	a, b := t.pair.Original, t.pair.Corrected
	if t.order == CorrectedFirst {
		a, b = b, a
	}
	system, user := systemPrompts[t.dim], judgeUserPrompt(t.pair.Question, a, b)
	judge := o.Judge.chatter()
	var reply string
	v := VerdictUnparsable
	for n := 0; n < o.Judge.Retry.Attempts && v == VerdictUnparsable; n++ {
		var err error
		reply, err = judge.Chat(ctx, system, user)
		if err != nil {
			return "", fmt.Errorf("eval: judge %s/%s: %w", t.dim, t.order, err)
		}
		v = ParseVerdict(reply)
	}
	if err := o.State.Put(Judgement{Pair: t.pair.ID, Dimension: t.dim, Order: t.order, Verdict: v, Reply: reply}); err != nil {
		return "", err
	}
	return v, nil
}

// result combines a pair's verdicts per dimension.
func result(p Pair, dims []Dimension, verdicts map[stateKey]Verdict) PairResult {
	r := PairResult{Pair: p, Outcomes: map[Dimension]Outcome{}, Verdicts: map[Dimension][2]Verdict{}}
	for _, d := range dims {
		if p.Original == p.Corrected {
			r.Outcomes[d] = Tie
			r.Verdicts[d] = [2]Verdict{VerdictEqual, VerdictEqual}
			continue
		}
		v1, ok1 := verdicts[stateKey{p.ID, d, OriginalFirst}]
		v2, ok2 := verdicts[stateKey{p.ID, d, CorrectedFirst}]
		r.Verdicts[d] = [2]Verdict{v1, v2}
		if !ok1 || !ok2 {
			r.Outcomes[d] = Failed
			continue
		}
		r.Outcomes[d] = Combine(v1, v2)
	}
	return r
}
