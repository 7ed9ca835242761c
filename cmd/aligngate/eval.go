package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/aligngate/aligngate/eval"
)

// evalFlags are the options of `aligngate eval`.
type evalFlags struct {
	records, prompts            string
	target, targetKeyEnv, model string
	pairs                       string
	judgeURL, judgeModel        string
	judgeKeyEnv                 string
	dimensions                  string
	concurrency, retries        int
	state, md, html             string
	seed                        uint64
	bootstrap, limit            int
}

const evalUsage = `usage: aligngate eval (--records FILE | --prompts FILE --target URL --model M) --judge-url URL --judge-model M [flags]

Judges original against corrected answers pairwise (helpfulness and
harmlessness, each pair in both orders) and reports W/T/L, unparsable and
ω = (W − L) / (W + L + T) with a 95% bootstrap interval.

--records reads experiment records (JSONL; the experiment needs
capture_content: true). --prompts reads JSONL {"question": ...} and sends
each question to --target twice, with X-Aligngate-Mode: off and aligner;
the target's policy must set allow_mode_header: true. Rerunning with the
same --state (and --pairs) skips what was already judged (and generated).

`

// runEval implements `aligngate eval`.
func runEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, evalUsage); fs.PrintDefaults() }
	var f evalFlags
	fs.StringVar(&f.records, "records", "", "experiment records JSONL (pairs with question, original and corrected answer)")
	fs.StringVar(&f.prompts, "prompts", "", `prompt file, JSONL of {"question": ...}, answered through --target`)
	fs.StringVar(&f.target, "target", "", "aligngate base URL for --prompts, e.g. http://localhost:8080/v1")
	fs.StringVar(&f.targetKeyEnv, "target-key-env", "", "env var holding the key for --target")
	fs.StringVar(&f.model, "model", "", "model to request from --target")
	fs.StringVar(&f.pairs, "pairs", "eval-pairs.jsonl", "where --prompts stores generated pairs (reused on rerun)")
	fs.StringVar(&f.judgeURL, "judge-url", "", "judge base URL (OpenAI-compatible), e.g. https://api.openai.com/v1")
	fs.StringVar(&f.judgeModel, "judge-model", "", "judge model name")
	fs.StringVar(&f.judgeKeyEnv, "judge-key-env", "JUDGE_API_KEY", "env var holding the judge's API key")
	fs.StringVar(&f.dimensions, "dimensions", "helpfulness,harmlessness", "comma-separated: helpfulness, harmlessness, empathy")
	fs.IntVar(&f.concurrency, "concurrency", 4, "calls in flight")
	fs.IntVar(&f.retries, "retries", 4, "tries per call on 429/5xx/network errors and per unparsable verdict")
	fs.StringVar(&f.state, "state", "eval-state.jsonl", "judged calls, appended; a rerun skips them (\"\" for none)")
	fs.StringVar(&f.md, "md", "", "write the Markdown summary here (default stdout)")
	fs.StringVar(&f.html, "html", "eval-report.html", "write the HTML report here (\"\" for none)")
	fs.Uint64Var(&f.seed, "seed", 1, "bootstrap seed")
	fs.IntVar(&f.bootstrap, "bootstrap", 2000, "bootstrap resamples")
	fs.IntVar(&f.limit, "limit", 0, "judge at most this many pairs (0 = all)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	dims, err := f.check()
	if err != nil {
		fs.Usage()
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	pairs, err := f.loadPairs(ctx, logger)
	if err != nil {
		return err
	}
	if f.limit > 0 && len(pairs) > f.limit {
		pairs = pairs[:f.limit]
	}
	rep, err := f.judge(ctx, pairs, dims, stderr, logger)
	if err != nil {
		return err
	}
	return f.write(rep, stdout)
}

// check validates flag combinations and parses the dimensions.
func (f *evalFlags) check() ([]eval.Dimension, error) {
	if (f.records == "") == (f.prompts == "") {
		return nil, fmt.Errorf("%w: give exactly one of --records and --prompts", eval.ErrUsage)
	}
	if f.prompts != "" && (f.target == "" || f.model == "") {
		return nil, fmt.Errorf("%w: --prompts needs --target and --model", eval.ErrUsage)
	}
	if f.judgeURL == "" || f.judgeModel == "" {
		return nil, fmt.Errorf("%w: --judge-url and --judge-model are required", eval.ErrUsage)
	}
	var dims []eval.Dimension
	for _, s := range strings.Split(f.dimensions, ",") {
		d, err := eval.ParseDimension(s)
		if err != nil {
			return nil, err
		}
		dims = append(dims, d)
	}
	return dims, nil
}

func (f *evalFlags) loadPairs(ctx context.Context, logger *slog.Logger) ([]eval.Pair, error) {
	if f.records != "" {
		file, err := os.Open(f.records)
		if err != nil {
			return nil, fmt.Errorf("eval: %w", err)
		}
		defer file.Close()
		return eval.LoadPairs(file)
	}
	file, err := os.Open(f.prompts)
	if err != nil {
		return nil, fmt.Errorf("eval: %w", err)
	}
	defer file.Close()
	questions, err := eval.LoadPrompts(file)
	if err != nil {
		return nil, err
	}
	if f.limit > 0 && len(questions) > f.limit {
		questions = questions[:f.limit]
	}
	return eval.Generate(ctx, eval.GenerateOptions{
		Questions: questions, Target: f.target, APIKey: envOf(f.targetKeyEnv), Model: f.model,
		PairsPath: f.pairs, Concurrency: f.concurrency, Retry: eval.Retry{Attempts: f.retries}, Logger: logger,
	})
}

func (f *evalFlags) judge(ctx context.Context, pairs []eval.Pair, dims []eval.Dimension, stderr io.Writer, logger *slog.Logger) (*eval.Report, error) {
	client, err := eval.NewClient(eval.ClientOptions{BaseURL: f.judgeURL, APIKey: envOf(f.judgeKeyEnv), Timeout: 5 * time.Minute})
	if err != nil {
		return nil, err
	}
	state, err := eval.OpenState(f.state, f.judgeModel)
	if err != nil {
		return nil, err
	}
	defer state.Close()
	return eval.Run(ctx, eval.Options{
		Pairs: pairs, Judge: eval.Judge{Client: client, Model: f.judgeModel, Retry: eval.Retry{Attempts: f.retries}},
		Dimensions: dims, Concurrency: f.concurrency, State: state, Progress: stderr, Logger: logger,
		Seed: f.seed, Bootstrap: f.bootstrap,
	})
}

func (f *evalFlags) write(rep *eval.Report, stdout io.Writer) error {
	md := stdout
	if f.md != "" {
		file, err := os.Create(f.md)
		if err != nil {
			return fmt.Errorf("eval: %w", err)
		}
		defer file.Close()
		md = file
	}
	if err := rep.WriteMarkdown(md); err != nil {
		return err
	}
	if f.html == "" {
		return nil
	}
	file, err := os.Create(f.html)
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	if err := rep.WriteHTML(file); err != nil {
		file.Close()
		return err
	}
	if err := file.Close(); err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	return nil
}

func envOf(name string) string {
	if name == "" {
		return ""
	}
	return os.Getenv(name)
}
