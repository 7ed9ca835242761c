// Command llamacpp-bench measures the in-process llama.cpp engine (package
// llamacpp) on a realistically shaped random model and compares it, in the
// same run, with llama.cpp's own runner (node-llama-cpp on the same
// libraries and model file): prompt processing and generation tokens/s for
// one stream, aggregate generation for several concurrent streams, and the
// cost of Stream Aligner-style growing prompts with prefix reuse.
//
// Run it through bench/llamacpp/run.sh, which prepares the libraries, the
// model and node-llama-cpp.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/aligngate/aligngate/llamacpp"
)

type options struct {
	model, lib, node     string
	threads, ctx, batch  int
	promptTokens, gen    int
	streams, reps, sents int
}

func main() {
	var o options
	flag.StringVar(&o.model, "model", "bench/out/qwen05b-q8_0.gguf", "GGUF model")
	flag.StringVar(&o.lib, "lib", os.Getenv("YZMA_LIB"), "llama.cpp library folder")
	flag.StringVar(&o.node, "node", "bench/llamacpp/node/bench.mjs", "node-llama-cpp script; empty skips the comparison")
	flag.IntVar(&o.threads, "threads", 2, "decode threads (both runners)")
	flag.IntVar(&o.ctx, "ctx", 1024, "context size per sequence")
	flag.IntVar(&o.batch, "batch", 512, "batch size")
	flag.IntVar(&o.promptTokens, "prompt-tokens", 256, "prompt length for the single-stream test")
	flag.IntVar(&o.gen, "gen", 64, "tokens generated per request")
	flag.IntVar(&o.streams, "streams", 4, "concurrent streams")
	flag.IntVar(&o.reps, "reps", 3, "repetitions (the median is reported)")
	flag.IntVar(&o.sents, "sentences", 20, "sentences in the prefix-reuse test")
	flag.Parse()
	if err := run(o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "llamacpp-bench:", err)
		os.Exit(1)
	}
}

// stream is one measured request: wall and process CPU milliseconds for
// the prompt (up to the first token) and the generation after it.
type stream struct {
	PromptTokens int     `json:"promptTokens"`
	PromptMs     float64 `json:"promptMs"`
	PromptCPUMs  float64 `json:"promptCpuMs"`
	GenTokens    int     `json:"genTokens"`
	GenMs        float64 `json:"genMs"`
	GenCPUMs     float64 `json:"genCpuMs"`
}

// phase is a group of concurrent requests measured as a whole.
type phase struct {
	Tokens int     `json:"tokens"` // generated, all streams together
	WallMs float64 `json:"wallMs"`
	CPUMs  float64 `json:"cpuMs"`
}

type nodeResult struct {
	Runs  []stream `json:"runs"`
	Phase phase    `json:"phase"`
}

func run(o options, out io.Writer) error {
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	e, err := llamacpp.Open(llamacpp.Config{
		ModelPath: o.model, LibDir: o.lib, ContextSize: o.ctx, Threads: o.threads,
		BatchSize: o.batch, Parallel: o.streams, QueueSize: 1,
	}, logger)
	if err != nil {
		return err
	}
	defer e.Close()
	b := &bench{o: o, e: e}
	if _, err := b.one(context.Background(), "Warm up.", 4); err != nil {
		return err
	}
	return b.report(out)
}

type bench struct {
	o options
	e *llamacpp.Engine
}

// prompt returns text of about n tokens, distinct per seed so no run reuses
// another's cache.
func (b *bench) prompt(seed, n int) (string, error) {
	words := strings.Fields("the assistant should answer every question with care and give a helpful safe and honest reply to the user")
	var sb strings.Builder
	fmt.Fprintf(&sb, "Run %d:", seed)
	for i := 0; ; i++ {
		if i%8 == 0 {
			c, err := b.e.CountTokens(sb.String())
			if err != nil {
				return "", err
			}
			if c >= n {
				return sb.String(), nil
			}
		}
		sb.WriteString(" " + words[(i*7+seed)%len(words)])
	}
}

// one runs a greedy request, timing prompt (to the first token) and
// generation (first to last token).
func (b *bench) one(ctx context.Context, prompt string, gen int) (stream, error) {
	start, startCPU := time.Now(), cpuNow()
	var first time.Time
	var firstCPU time.Duration
	res, err := b.e.Generate(ctx, prompt, llamacpp.Params{MaxTokens: gen}, func(string) error {
		if first.IsZero() {
			first, firstCPU = time.Now(), cpuNow()
		}
		return nil
	})
	end, endCPU := time.Now(), cpuNow()
	if err != nil {
		return stream{}, err
	}
	return stream{
		PromptTokens: res.EvaluatedTokens, PromptMs: ms(first.Sub(start)), PromptCPUMs: ms(firstCPU - startCPU),
		GenTokens: res.CompletionTokens - 1, GenMs: ms(end.Sub(first)), GenCPUMs: ms(endCPU - firstCPU),
	}, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// cpuNow is the CPU time (user + system) this process has used.
func cpuNow() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// tokens returns prompts as token ids for the node runner.
func (b *bench) tokens(prompts []string) ([][]int32, error) {
	var all [][]int32
	for _, p := range prompts {
		t, err := b.e.Tokenize(p)
		if err != nil {
			return nil, err
		}
		all = append(all, t)
	}
	return all, nil
}

// node runs the node-llama-cpp script on the same token ids.
func (b *bench) node(mode string, prompts [][]int32) (nodeResult, error) {
	var r nodeResult
	job := map[string]any{
		"model": b.o.model, "threads": b.o.threads, "contextSize": b.o.ctx, "batchSize": b.o.batch,
		"sequences": b.o.streams, "gen": b.o.gen, "mode": mode, "prompts": prompts,
	}
	f, err := os.CreateTemp("", "llamacpp-bench-*.json")
	if err != nil {
		return r, err
	}
	defer os.Remove(f.Name())
	if err := json.NewEncoder(f).Encode(job); err != nil {
		return r, err
	}
	f.Close()
	cmd := exec.Command("node", b.o.node, f.Name())
	cmd.Stderr = os.Stderr
	outb, err := cmd.Output()
	if err != nil {
		return r, fmt.Errorf("node runner: %w", err)
	}
	return r, json.Unmarshal(outb, &r)
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// rate is a throughput measured by wall clock and by process CPU time
// (tokens per CPU-second), the latter robust to other load on the machine.
type rate struct{ Wall, CPU float64 }

func perSecond(tokens int, wallMs, cpuMs float64) rate {
	return rate{Wall: float64(tokens) / wallMs * 1000, CPU: float64(tokens) / cpuMs * 1000}
}

func medianRate(rs []rate) rate {
	var w, c []float64
	for _, r := range rs {
		w, c = append(w, r.Wall), append(c, r.CPU)
	}
	return rate{Wall: median(w), CPU: median(c)}
}

// rates returns prompt and generation rates of single streams.
func rates(runs []stream) (pp, tg rate) {
	var pps, tgs []rate
	for _, r := range runs {
		pps = append(pps, perSecond(r.PromptTokens, r.PromptMs, r.PromptCPUMs))
		tgs = append(tgs, perSecond(r.GenTokens, r.GenMs, r.GenCPUMs))
	}
	return medianRate(pps), medianRate(tgs)
}

func abs(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return a
}
