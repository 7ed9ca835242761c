package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aligngate/aligngate/eval"
)

// evalFlags are the options of `aligngate eval`.
type evalFlags struct {
	records, prompts, dataset   string
	questionCol, answerCol      string
	answerFrom, format          string
	config, alignerModel        string
	judgeMaxTokens              int
	judgeContext                int
	jsonOut                     string
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

const evalUsage = `usage: aligngate eval (--records FILE | --prompts FILE --target URL --model M | --dataset FILE [--config FILE | --aligner-model GGUF]) (--judge-url URL --judge-model M | --judge-model JUDGE.gguf) [flags]

Judges original against corrected answers pairwise (helpfulness and
harmlessness, each pair in both orders) and reports W/T/L, unparsable and
ω = (W − L) / (W + L + T) with a 95% bootstrap interval, or n/a when no
verdict was usable. Writes Markdown (stdout or --md), HTML (--html) and
a JSON result (--json).

--dataset reads question-answer pairs: JSONL {"question","answer"},
HH-RLHF jsonl(.gz) (first Human turn, last Assistant turn of --answer-from)
or CSV with a header (--question-col, --answer-col; defaults fit the XSTest
completions files). Each answer is corrected in-process by the corrector
that --config (same file as serve) or --aligner-model configures.

The judge is an OpenAI-compatible endpoint (--judge-url, key in
$JUDGE_API_KEY or --judge-key-env), or, without --judge-url, a GGUF file
given as --judge-model PATH.gguf, loaded in-process so the whole eval runs
offline. A small local judge's verdicts are not evidence of quality; the
report says so.

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
	fs.StringVar(&f.dataset, "dataset", "", "dataset of question-answer pairs to correct and judge: .jsonl, .jsonl.gz (also HH-RLHF) or .csv")
	fs.StringVar(&f.questionCol, "question-col", eval.DefaultQuestionCol, "CSV column holding the question (--dataset)")
	fs.StringVar(&f.answerCol, "answer-col", eval.DefaultAnswerCol, "CSV column holding the answer (--dataset)")
	fs.StringVar(&f.answerFrom, "answer-from", eval.AnswerRejected, "HH-RLHF side whose last Assistant turn is the answer: chosen or rejected")
	fs.StringVar(&f.format, "format", "", "dataset format: jsonl or csv (default: from the file name)")
	fs.StringVar(&f.config, "config", "", "config `file` whose llamacpp and correct sections build the corrector (--dataset)")
	fs.StringVar(&f.alignerModel, "aligner-model", "", "local GGUF correction model (overrides llamacpp.model_path; --dataset)")
	fs.IntVar(&f.judgeMaxTokens, "judge-max-tokens", 256, "tokens a local judge may generate: reasoning, then the verdict marker")
	fs.IntVar(&f.judgeContext, "judge-context", 4096, "context tokens of a local judge (question and both answers must fit)")
	fs.StringVar(&f.jsonOut, "json", "eval-report.json", "write the machine-readable result here (\"\" for none)")
	fs.StringVar(&f.records, "records", "", "experiment records JSONL (pairs with question, original and corrected answer)")
	fs.StringVar(&f.prompts, "prompts", "", `prompt file, JSONL of {"question": ...}, answered through --target`)
	fs.StringVar(&f.target, "target", "", "aligngate base URL for --prompts, e.g. http://localhost:8080/v1")
	fs.StringVar(&f.targetKeyEnv, "target-key-env", "", "env var holding the key for --target")
	fs.StringVar(&f.model, "model", "", "model to request from --target")
	fs.StringVar(&f.pairs, "pairs", "eval-pairs.jsonl", "where --prompts stores generated pairs (reused on rerun)")
	fs.StringVar(&f.judgeURL, "judge-url", "", "judge base URL (OpenAI-compatible), e.g. https://api.openai.com/v1")
	fs.StringVar(&f.judgeModel, "judge-model", "", "judge model name; without --judge-url, a .gguf file loaded in-process")
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
	about := eval.About{Started: time.Now()}
	pairs, err := f.loadPairs(ctx, logger, stderr, &about)
	if err != nil {
		return err
	}
	if f.limit > 0 && len(pairs) > f.limit {
		pairs = pairs[:f.limit]
	}
	rep, err := f.judge(ctx, pairs, dims, stderr, logger, &about)
	if err != nil {
		return err
	}
	about.Duration = time.Since(about.Started)
	rep.About = about
	if w := about.Warning(); w != "" {
		logger.Warn(w)
	}
	return f.write(rep, stdout)
}

// check validates flag combinations and parses the dimensions.
func (f *evalFlags) check() ([]eval.Dimension, error) {
	n := 0
	for _, in := range []string{f.records, f.prompts, f.dataset} {
		if in != "" {
			n++
		}
	}
	if n != 1 {
		return nil, fmt.Errorf("%w: give exactly one of --records, --prompts and --dataset", eval.ErrUsage)
	}
	if f.prompts != "" && (f.target == "" || f.model == "") {
		return nil, fmt.Errorf("%w: --prompts needs --target and --model", eval.ErrUsage)
	}
	if f.dataset != "" && f.target != "" {
		return nil, fmt.Errorf("%w: --dataset corrects in-process (--config, --aligner-model); --target only serves --prompts", eval.ErrUsage)
	}
	if !f.isLocalJudge() && (f.judgeURL == "" || f.judgeModel == "") {
		return nil, fmt.Errorf("%w: give --judge-url and --judge-model, or --judge-model PATH.gguf for a local judge", eval.ErrUsage)
	}
	if f.isLocalJudge() && f.judgeMaxTokens < 1 {
		return nil, fmt.Errorf("%w: --judge-max-tokens must be >= 1", eval.ErrUsage)
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

func (f *evalFlags) loadPairs(ctx context.Context, logger *slog.Logger, stderr io.Writer, about *eval.About) ([]eval.Pair, error) {
	if f.dataset != "" {
		return f.correctDataset(ctx, logger, stderr, about)
	}
	if f.records != "" {
		about.Dataset, about.Corrector = f.records, "as recorded by aligngate (experiment records)"
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
	about.Dataset, about.Corrector = f.prompts, "aligngate at "+f.target+" (X-Aligngate-Mode off vs aligner)"
	return eval.Generate(ctx, eval.GenerateOptions{
		Questions: questions, Target: f.target, APIKey: envOf(f.targetKeyEnv), Model: f.model,
		PairsPath: f.pairs, Concurrency: f.concurrency, Retry: eval.Retry{Attempts: f.retries}, Logger: logger,
	})
}

// correctDataset reads --dataset and corrects each item in-process.
func (f *evalFlags) correctDataset(ctx context.Context, logger *slog.Logger, stderr io.Writer, about *eval.About) ([]eval.Pair, error) {
	items, err := eval.ReadDataset(f.dataset, eval.DatasetOptions{
		Format: f.format, QuestionCol: f.questionCol, AnswerCol: f.answerCol, AnswerFrom: f.answerFrom, Limit: f.limit,
	})
	if err != nil {
		return nil, err
	}
	c, err := openCorrector(f, logger)
	if err != nil {
		return nil, err
	}
	defer c.close()
	about.Dataset, about.Corrector = f.dataset, c.about
	pairs, skipped, err := eval.CorrectAll(ctx, items, c, eval.CorrectOptions{Concurrency: f.concurrency, Progress: stderr, Logger: logger})
	about.Skipped = skipped
	return pairs, err
}

func (f *evalFlags) judge(ctx context.Context, pairs []eval.Pair, dims []eval.Dimension, stderr io.Writer, logger *slog.Logger, about *eval.About) (*eval.Report, error) {
	j, closeJudge, err := f.openJudge(logger, about)
	if err != nil {
		return nil, err
	}
	defer closeJudge()
	state, err := eval.OpenState(f.state, j.Model)
	if err != nil {
		return nil, err
	}
	defer state.Close()
	return eval.Run(ctx, eval.Options{
		Pairs: pairs, Judge: j, Dimensions: dims, Concurrency: f.concurrency, State: state, Progress: stderr, Logger: logger,
		Seed: f.seed, Bootstrap: f.bootstrap,
	})
}

// openJudge returns the endpoint judge, or the local GGUF judge (asked
// once per prompt: greedy decoding would repeat an unparsable reply).
func (f *evalFlags) openJudge(logger *slog.Logger, about *eval.About) (eval.Judge, func(), error) {
	if f.isLocalJudge() {
		lj, err := openLocalJudge(f, logger)
		if err != nil {
			return eval.Judge{}, nil, err
		}
		base := filepath.Base(f.judgeModel)
		about.JudgeKind, about.JudgeSize = eval.JudgeLocal, eval.SizeLabel(base)
		name := fmt.Sprintf("local:%s (greedy, max %d tokens)", base, f.judgeMaxTokens)
		return eval.Judge{Model: name, Chatter: lj, Retry: eval.Retry{Attempts: 1}}, lj.close, nil
	}
	client, err := eval.NewClient(eval.ClientOptions{BaseURL: f.judgeURL, APIKey: envOf(f.judgeKeyEnv), Timeout: 5 * time.Minute})
	if err != nil {
		return eval.Judge{}, nil, err
	}
	about.JudgeKind, about.JudgeURL, about.JudgeSize = eval.JudgeEndpoint, f.judgeURL, eval.SizeLabel(f.judgeModel)
	return eval.Judge{Client: client, Model: f.judgeModel, Retry: eval.Retry{Attempts: f.retries}}, func() {}, nil
}

func (f *evalFlags) write(rep *eval.Report, stdout io.Writer) error {
	if f.md == "" {
		if err := rep.WriteMarkdown(stdout); err != nil {
			return err
		}
	} else if err := writeFile(f.md, rep.WriteMarkdown); err != nil {
		return err
	}
	if f.html != "" {
		if err := writeFile(f.html, rep.WriteHTML); err != nil {
			return err
		}
	}
	if f.jsonOut != "" {
		return writeFile(f.jsonOut, rep.WriteJSON)
	}
	return nil
}

// writeFile creates path and writes it with fn.
func writeFile(path string, fn func(io.Writer) error) error {
	file, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	if err := fn(file); err != nil {
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
