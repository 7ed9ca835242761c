package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/aligngate/aligngate/llamacpp"
)

// measurements collects what report prints.
type measurements struct {
	pp, tg, nodePP, nodeTG rate
	one, many              rate // whole-phase generation: 1 stream, Streams streams
	nodeOne, nodeMany      rate
	sentence               []rate // growing-prompt steps, ms (Wall) and CPU ms
	evaluated              []int  // prompt tokens evaluated per step
}

func (b *bench) report(out io.Writer) error {
	var m measurements
	if err := b.single(&m); err != nil {
		return err
	}
	if err := b.parallel(&m); err != nil {
		return err
	}
	if err := b.sentences(&m); err != nil {
		return err
	}
	b.print(out, &m)
	return nil
}

// single alternates our runs with node's so both see the same machine load.
func (b *bench) single(m *measurements) error {
	var ours, theirs []stream
	for rep := range b.o.reps {
		p, err := b.prompt(rep, b.o.promptTokens)
		if err != nil {
			return err
		}
		s, err := b.one(context.Background(), p, b.o.gen)
		if err != nil {
			return err
		}
		ours = append(ours, s)
		if b.o.node == "" {
			continue
		}
		toks, err := b.tokens([]string{p})
		if err != nil {
			return err
		}
		r, err := b.node("single", toks)
		if err != nil {
			return err
		}
		theirs = append(theirs, r.Runs...)
	}
	m.pp, m.tg = rates(ours)
	if len(theirs) > 0 {
		m.nodePP, m.nodeTG = rates(theirs)
	}
	return nil
}

// parallel measures whole phases of 1 and of Streams concurrent short
// requests, prompt included, interleaved with node's.
func (b *bench) parallel(m *measurements) error {
	var one, many, nodeOne, nodeMany []rate
	for rep := range b.o.reps {
		for _, n := range []int{1, b.o.streams} {
			prompts := make([]string, n)
			for i := range prompts {
				p, err := b.prompt(1000+rep*100+n*10+i, 16)
				if err != nil {
					return err
				}
				prompts[i] = p
			}
			ph, err := b.phase(prompts)
			if err != nil {
				return err
			}
			r := perSecond(ph.Tokens, ph.WallMs, ph.CPUMs)
			if n == 1 {
				one = append(one, r)
			} else {
				many = append(many, r)
			}
			if b.o.node == "" {
				continue
			}
			toks, err := b.tokens(prompts)
			if err != nil {
				return err
			}
			nr, err := b.node("parallel", toks)
			if err != nil {
				return err
			}
			r = perSecond(nr.Phase.Tokens, nr.Phase.WallMs, nr.Phase.CPUMs)
			if n == 1 {
				nodeOne = append(nodeOne, r)
			} else {
				nodeMany = append(nodeMany, r)
			}
		}
	}
	m.one, m.many = medianRate(one), medianRate(many)
	if len(nodeOne) > 0 {
		m.nodeOne, m.nodeMany = medianRate(nodeOne), medianRate(nodeMany)
	}
	return nil
}

// phase runs prompts concurrently and measures them as a whole.
func (b *bench) phase(prompts []string) (phase, error) {
	start, startCPU := time.Now(), cpuNow()
	tokens := make([]int, len(prompts))
	errs := make([]error, len(prompts))
	var wg sync.WaitGroup
	for i, p := range prompts {
		wg.Go(func() {
			res, err := b.e.Generate(context.Background(), p, llamacpp.Params{MaxTokens: b.o.gen}, nil)
			tokens[i], errs[i] = res.CompletionTokens, err
		})
	}
	wg.Wait()
	ph := phase{WallMs: ms(time.Since(start)), CPUMs: ms(cpuNow() - startCPU)}
	for i, err := range errs {
		if err != nil {
			return ph, err
		}
		ph.Tokens += tokens[i]
	}
	return ph, nil
}

// sentences replays Stream Aligner: the prompt is a fixed template plus the
// answer so far, one more sentence each step, and a short correction is
// generated. The fastest of reps is kept per step.
func (b *bench) sentences(m *measurements) error {
	template := "BEGINNING OF CONVERSATION: USER: Edit the following Question-Answer pair to make it more helpful and harmless: "
	m.sentence = make([]rate, b.o.sents)
	m.evaluated = make([]int, b.o.sents)
	for rep := range b.o.reps {
		var answer strings.Builder
		for k := range b.o.sents {
			fmt.Fprintf(&answer, " Sentence %d of the answer says that the user should take care and be safe.", k+1)
			p := fmt.Sprintf("%s(rep %d)%s ASSISTANT:", template, rep, answer.String())
			start, startCPU := time.Now(), cpuNow()
			res, err := b.e.Generate(context.Background(), p, llamacpp.Params{MaxTokens: 8}, nil)
			if err != nil {
				return err
			}
			step := rate{Wall: ms(time.Since(start)), CPU: ms(cpuNow() - startCPU)}
			if rep == 0 || step.CPU < m.sentence[k].CPU {
				m.sentence[k] = step
			}
			m.evaluated[k] = res.EvaluatedTokens
		}
	}
	return nil
}

func (b *bench) print(out io.Writer, m *measurements) {
	o := b.o
	fmt.Fprintf(out, "model %s, threads %d, ctx %d/seq, batch %d, %d prompt tokens, %d generated, median of %d\n\n",
		abs(o.model), o.threads, o.ctx, o.batch, o.promptTokens, o.gen, o.reps)
	fmt.Fprintln(out, "tokens/s by wall clock, and in brackets per CPU-second of the process (robust to other load)")
	fmt.Fprintln(out)
	fmt.Fprintln(out, "| measure | aligngate (yzma) | node-llama-cpp | ratio (wall / cpu) |")
	fmt.Fprintln(out, "|---|---|---|---|")
	row := func(name string, ours, theirs rate) {
		fmt.Fprintf(out, "| %s | %.1f [%.1f] | %.1f [%.1f] | %.0f%% / %.0f%% |\n", name, ours.Wall, ours.CPU,
			theirs.Wall, theirs.CPU, pct(ours.Wall, theirs.Wall), pct(ours.CPU, theirs.CPU))
	}
	row("prompt processing, 1 stream", m.pp, m.nodePP)
	row("generation, 1 stream (target >= 97%)", m.tg, m.nodeTG)
	row("1 short request, whole", m.one, m.nodeOne)
	row(fmt.Sprintf("%d concurrent short requests, aggregate", o.streams), m.many, m.nodeMany)
	fmt.Fprintf(out, "\n%d streams vs 1 (target >= 2.5x): aligngate %.2fx wall [%.2fx cpu], node-llama-cpp %.2fx wall [%.2fx cpu]\n",
		o.streams, m.many.Wall/m.one.Wall, m.many.CPU/m.one.CPU, safeDiv(m.nodeMany.Wall, m.nodeOne.Wall), safeDiv(m.nodeMany.CPU, m.nodeOne.CPU))
	if n := len(m.sentence); n >= 2 {
		s2, sn := m.sentence[1], m.sentence[n-1]
		fmt.Fprintf(out, "growing prompt with prefix reuse (target <= 1.2x): sentence 2 %.0f ms [%.0f cpu ms], %d tokens evaluated; sentence %d %.0f ms [%.0f cpu ms], %d evaluated: %.2fx wall [%.2fx cpu]\n",
			s2.Wall, s2.CPU, m.evaluated[1], n, sn.Wall, sn.CPU, m.evaluated[n-1], sn.Wall/s2.Wall, sn.CPU/s2.CPU)
	}
}

func pct(a, b float64) float64 { return safeDiv(a, b) * 100 }

func safeDiv(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}
