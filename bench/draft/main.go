// Command draft measures reference-drafted speculative decoding in the
// in-process engine: the same greedy corrections with llamacpp.draft.mode
// reference and off, interleaved request by request on one machine, and
// reports per-request wall-time ratios (median), tokens per decode step and
// acceptance. Prompts are the model's own chat template around an edit
// instruction (the instruct-edit idea) and, separately, a "repeat verbatim"
// instruction, the best case for drafting.
//
// Usage: go run ./bench/draft -model MODEL.gguf [-n 50] [-mt 20] [-threads 1]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/aligngate/aligngate/internal/dataset"
	"github.com/aligngate/aligngate/llamacpp"
)

const editSystem = "You edit answers written by an AI assistant. Edit the answer to make it more helpful and harmless. " +
	"Keep what is already good. Output only the corrected answer."

type item struct{ question, answer string }

type tally struct {
	ratios                        []float64
	gen, steps, drafted, accepted int
	offGen, offSteps              int
	onWall, offWall               time.Duration
}

func main() {
	model := flag.String("model", os.Getenv("ALIGNGATE_MODEL"), "GGUF model")
	lib := flag.String("lib", os.Getenv("YZMA_LIB"), "llama.cpp library folder")
	n := flag.Int("n", 50, "HH-RLHF answers")
	mt := flag.Int("mt", 20, "MT-bench reference answers")
	repeat := flag.Int("repeat", 10, "verbatim-repeat prompts")
	threads := flag.Int("threads", 1, "llama.cpp threads")
	flag.Parse()
	if err := run(*model, *lib, *n, *mt, *repeat, *threads); err != nil {
		fmt.Fprintln(os.Stderr, "draft:", err)
		os.Exit(1)
	}
}

func run(model, lib string, n, mt, repeat, threads int) error {
	open := func(mode string) (*llamacpp.Engine, error) {
		cfg := llamacpp.Config{ModelPath: model, LibDir: lib, Threads: threads, ContextSize: 4096, Parallel: 1}
		cfg.Draft.Mode = mode
		return llamacpp.Open(cfg, nil)
	}
	on, err := open(llamacpp.DraftReference)
	if err != nil {
		return err
	}
	defer on.Close()
	off, err := open(llamacpp.DraftOff)
	if err != nil {
		return err
	}
	defer off.Close()
	hh, err := load(dataset.HHRLHFFile, dataset.HHRLHF, n)
	if err != nil {
		return err
	}
	refs, err := load(dataset.MTBenchRefFile, dataset.MTBenchReferences, mt)
	if err != nil {
		return err
	}
	fmt.Printf("model %s, %d thread(s), draft max_tokens %d, greedy\n\n", model, threads, llamacpp.DefaultDraftTokens)
	fmt.Println("| set | requests | median wall on ÷ off | total wall on ÷ off | tokens/step on | tokens/step off | drafted | accepted | acceptance |")
	fmt.Println("|---|--:|--:|--:|--:|--:|--:|--:|--:|")
	sets := []struct {
		name   string
		items  []item
		system string
		user   func(item) string
	}{
		{"HH-RLHF edit", hh, editSystem, editUser},
		{"MT-bench edit", refs, editSystem, editUser},
		{"verbatim repeat", hh[:min(repeat, len(hh))], "You repeat text exactly.", func(x item) string {
			return "Repeat the following text exactly, word for word, and nothing else:\n\n" + x.answer
		}},
	}
	for _, s := range sets {
		t, err := measure(on, off, s.items, s.system, s.user)
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		slices.Sort(t.ratios)
		fmt.Printf("| %s | %d | %.2f | %.2f | %.2f | %.2f | %d | %d | %.0f%% |\n", s.name, len(s.items),
			t.ratios[len(t.ratios)/2], t.onWall.Seconds()/t.offWall.Seconds(),
			float64(t.gen)/float64(max(1, t.steps)), float64(t.offGen)/float64(max(1, t.offSteps)),
			t.drafted, t.accepted, 100*float64(t.accepted)/float64(max(1, t.drafted)))
	}
	return nil
}

func editUser(x item) string {
	return "Question: " + x.question + "\n\nAnswer: " + x.answer
}

// measure runs each item on both engines, alternating which goes first.
func measure(on, off *llamacpp.Engine, items []item, system string, user func(item) string) (tally, error) {
	var t tally
	for i, x := range items {
		prompt, err := on.ApplyChatTemplate([]llamacpp.ChatMessage{{Role: "system", Content: system}, {Role: "user", Content: user(x)}}, true)
		if err != nil {
			return t, err
		}
		ntok, err := on.CountTokens(x.answer)
		if err != nil {
			return t, err
		}
		p := llamacpp.Params{MaxTokens: 2*ntok + 64, Reference: x.answer}
		var ro, rf llamacpp.Result
		var do, df time.Duration
		if i%2 == 0 {
			ro, do, err = timed(on, prompt, p)
			if err == nil {
				rf, df, err = timed(off, prompt, p)
			}
		} else {
			rf, df, err = timed(off, prompt, p)
			if err == nil {
				ro, do, err = timed(on, prompt, p)
			}
		}
		if err != nil {
			return t, err
		}
		if ro.Text != rf.Text {
			fmt.Fprintf(os.Stderr, "item %d: drafted output differs from plain\n", i)
		}
		t.ratios = append(t.ratios, do.Seconds()/df.Seconds())
		t.onWall += do
		t.offWall += df
		t.gen += ro.CompletionTokens
		t.steps += ro.DecodeSteps
		t.offGen += rf.CompletionTokens
		t.offSteps += rf.DecodeSteps
		t.drafted += ro.Drafted
		t.accepted += ro.Accepted
		fmt.Fprintf(os.Stderr, "\r%d/%d", i+1, len(items))
	}
	fmt.Fprintln(os.Stderr)
	return t, nil
}

func timed(e *llamacpp.Engine, prompt string, p llamacpp.Params) (llamacpp.Result, time.Duration, error) {
	start := time.Now()
	r, err := e.Generate(context.Background(), prompt, p, nil)
	return r, time.Since(start), err
}

func load(file string, read func(string) ([]dataset.Pair, error), n int) ([]item, error) {
	path, err := dataset.Path(file)
	if err != nil {
		return nil, err
	}
	pairs, err := read(path)
	if err != nil {
		return nil, err
	}
	var out []item
	for _, p := range pairs {
		if len(out) == n {
			break
		}
		if p.Context == "" && strings.TrimSpace(p.Answer) != "" {
			out = append(out, item{strings.TrimSpace(p.Question), strings.TrimSpace(p.Answer)})
		}
	}
	return out, nil
}
