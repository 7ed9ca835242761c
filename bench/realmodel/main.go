// Command realmodel measures Aligner corrections with the real demo model
// (SmolLM2-135M-Instruct) on HH-RLHF answers, and compares the in-process
// engine with llama.cpp's own server (same release, same GGUF, same
// threads, context and batch) on the same prompts.
//
// Phase 1 corrects -n answers through correct.Corrector at its defaults
// (template auto, which picks instruct-edit; drafting on) on one thread:
// latency p50/p95, prompt and generation tokens/s, the share ending by
// end-of-turn. Phase 2 sends each correction's exact prompt and parameters
// to the engine (drafting off, as llama-server has none by default), then
// to llama-server's /completion for as many tokens as the engine made
// (ignore_eos), and reports both runners' prompt and generation tokens/s
// and their ratio.
//
// Run it through bench/realmodel/run.sh, which installs the model and
// builds llama-server.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/aligngate/aligngate/correct"
	"github.com/aligngate/aligngate/internal/dataset"
	"github.com/aligngate/aligngate/llamacorrect"
	"github.com/aligngate/aligngate/llamacpp"
)

type options struct {
	model, lib, server string
	n, threads, ctx    int
}

func main() {
	var o options
	flag.StringVar(&o.model, "model", ".llama/models/SmolLM2-135M-Instruct.Q4_1.gguf", "GGUF model")
	flag.StringVar(&o.lib, "lib", os.Getenv("YZMA_LIB"), "llama.cpp library folder")
	flag.StringVar(&o.server, "server", "", "llama-server binary; empty skips phase 2")
	flag.IntVar(&o.n, "n", 50, "HH-RLHF answers")
	flag.IntVar(&o.threads, "threads", 1, "threads (both runners)")
	flag.IntVar(&o.ctx, "ctx", 4096, "context size (both runners)")
	flag.Parse()
	if err := run(o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench/realmodel:", err)
		os.Exit(1)
	}
}

// call is one generation as the corrector made it.
type call struct {
	prompt    string
	params    correct.Params
	res       correct.Result
	ttft, all time.Duration
}

// recorder wraps the model to time each generation and keep its prompt.
type recorder struct {
	*llamacorrect.Model
	mu    sync.Mutex
	calls []call
}

func (r *recorder) Generate(ctx context.Context, prompt string, p correct.Params, on func(string) error) (correct.Result, error) {
	start := time.Now()
	var first time.Duration
	res, err := r.Model.Generate(ctx, prompt, p, func(s string) error {
		if first == 0 {
			first = time.Since(start)
		}
		return on(s)
	})
	r.mu.Lock()
	r.calls = append(r.calls, call{prompt: prompt, params: p, res: res, ttft: first, all: time.Since(start)})
	r.mu.Unlock()
	return res, err
}

func run(o options, w io.Writer) error {
	path, err := dataset.Path(dataset.HHRLHFFile)
	if err != nil {
		return err
	}
	all, err := dataset.HHRLHF(path)
	if err != nil {
		return err
	}
	var pairs []dataset.Pair
	for _, p := range all {
		if len(pairs) < o.n && p.Question != "" && p.Answer != "" {
			pairs = append(pairs, p)
		}
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	e, err := llamacpp.Open(llamacpp.Config{ModelPath: o.model, LibDir: o.lib, Threads: o.threads, ContextSize: o.ctx, Parallel: 1}, log)
	if err != nil {
		return err
	}
	defer e.Close()
	rec := &recorder{Model: llamacorrect.New(e)}
	c, err := correct.New(correct.Config{}, map[string]correct.Model{correct.BackendLocal: rec}, nil, log)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "model %s, %d HH-RLHF answers, %d thread(s), context %d, template %s\n\n", o.model, len(pairs), o.threads, o.ctx, c.Config().Template)
	var lat []time.Duration
	for _, p := range pairs {
		start := time.Now()
		if _, err := c.Align(context.Background(), correct.Request{Question: p.Question, Answer: p.Answer, NoCache: true}, nil); err != nil {
			return err
		}
		lat = append(lat, time.Since(start))
	}
	writePhase1(w, rec.calls, lat)
	if o.server == "" {
		return nil
	}
	plain, err := llamacpp.Open(llamacpp.Config{ModelPath: o.model, LibDir: o.lib, Threads: o.threads, ContextSize: o.ctx, Parallel: 1,
		Draft: llamacpp.DraftConfig{Mode: llamacpp.DraftOff}}, log)
	if err != nil {
		return err
	}
	defer plain.Close()
	srv, err := startServer(o)
	if err != nil {
		return err
	}
	defer srv.stop()
	return compare(w, rec.calls, plain, srv)
}

// writePhase1 prints the corrector's latency and rates.
func writePhase1(w io.Writer, calls []call, lat []time.Duration) {
	var evaluated, generated, eot int
	var prompt, gen time.Duration
	for _, c := range calls {
		evaluated += c.res.EvaluatedTokens
		generated += max(c.res.CompletionTokens-1, 0)
		prompt += c.ttft
		gen += c.all - c.ttft
		if c.res.FinishReason == llamacpp.FinishStop {
			eot++
		}
	}
	slices.Sort(lat)
	fmt.Fprintf(w, "| Aligner correction (correct.Corrector defaults, drafting on) | value |\n|---|--:|\n")
	fmt.Fprintf(w, "| latency p50 | %.0f ms |\n| latency p95 | %.0f ms |\n", ms(lat[len(lat)/2]), ms(lat[(len(lat)*95+99)/100-1]))
	fmt.Fprintf(w, "| prompt tokens/s (evaluated tokens / time to first token) | %.0f |\n", float64(evaluated)/prompt.Seconds())
	fmt.Fprintf(w, "| generation tokens/s (after the first token) | %.1f |\n", float64(generated)/gen.Seconds())
	fmt.Fprintf(w, "| ended by end-of-turn | %d of %d |\n\n", eot, len(calls))
}

// rates accumulates one runner's prompt and generation throughput.
type rates struct {
	promptTok, genTok int
	promptS, genS     float64
}

func (r rates) pp() float64 { return float64(r.promptTok) / r.promptS }
func (r rates) tg() float64 { return float64(r.genTok) / r.genS }

// compare runs every recorded prompt on the engine and on llama-server.
func compare(w io.Writer, calls []call, e *llamacpp.Engine, srv *server) error {
	var ours, theirs rates
	for _, c := range calls {
		p := llamacpp.Params{MaxTokens: c.params.MaxTokens, RepeatPenalty: c.params.RepeatPenalty, Stop: c.params.Stop}
		n, err := engineRun(e, c.prompt, p, &ours)
		if err != nil {
			return err
		}
		// The same number of tokens from llama-server, whose sampler
		// also sees the prompt for its penalties, so its text differs.
		p.MaxTokens = max(n, 1)
		if err := srv.run(c.prompt, p, &theirs); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "| same prompts, drafting off | aligngate engine | llama-server | engine / server |\n|---|--:|--:|--:|\n")
	fmt.Fprintf(w, "| prompt tokens/s | %.0f | %.0f | %.3f |\n", ours.pp(), theirs.pp(), ours.pp()/theirs.pp())
	fmt.Fprintf(w, "| generation tokens/s | %.1f | %.1f | %.3f |\n", ours.tg(), theirs.tg(), ours.tg()/theirs.tg())
	fmt.Fprintf(w, "| tokens evaluated / generated | %d / %d | %d / %d | |\n", ours.promptTok, ours.genTok, theirs.promptTok, theirs.genTok)
	return nil
}

// engineRun times one generation on the engine: the prompt phase until the
// first token, generation after it.
func engineRun(e *llamacpp.Engine, prompt string, p llamacpp.Params, r *rates) (int, error) {
	start := time.Now()
	var first time.Time
	res, err := e.Generate(context.Background(), prompt, p, func(string) error {
		if first.IsZero() {
			first = time.Now()
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if first.IsZero() {
		first = time.Now()
	}
	r.promptTok += res.EvaluatedTokens
	r.promptS += first.Sub(start).Seconds()
	r.genTok += max(res.CompletionTokens-1, 0)
	r.genS += time.Since(first).Seconds()
	return res.CompletionTokens, nil
}

// server is a running llama-server.
type server struct {
	cmd *exec.Cmd
	url string
}

func startServer(o options) (*server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(o.server, "-m", o.model, "--host", "127.0.0.1", "--port", strconv.Itoa(port),
		"-t", strconv.Itoa(o.threads), "-tb", strconv.Itoa(o.threads), "-c", strconv.Itoa(o.ctx), "-np", "1", "-b", "512", "-ub", "512")
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, url: fmt.Sprintf("http://127.0.0.1:%d", port)}
	for range 600 {
		if res, err := http.Get(s.url + "/health"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.stop()
	return nil, errors.New("llama-server did not become healthy")
}

func (s *server) stop() { _ = s.cmd.Process.Kill(); _ = s.cmd.Wait() }

// run sends one /completion and adds llama-server's own timings.
func (s *server) run(prompt string, p llamacpp.Params, r *rates) error {
	body, _ := json.Marshal(map[string]any{
		"prompt": prompt, "n_predict": p.MaxTokens, "temperature": 0, "repeat_penalty": max(p.RepeatPenalty, 1),
		"repeat_last_n": 64, "stop": p.Stop, "cache_prompt": true, "ignore_eos": true,
	})
	res, err := http.Post(s.url+"/completion", "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer res.Body.Close()
	var out struct {
		Timings struct {
			PromptN     int     `json:"prompt_n"`
			PromptMS    float64 `json:"prompt_ms"`
			PredictedN  int     `json:"predicted_n"`
			PredictedMS float64 `json:"predicted_ms"`
		} `json:"timings"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		return fmt.Errorf("llama-server: %w", err)
	}
	t := out.Timings
	r.promptTok += t.PromptN
	r.promptS += t.PromptMS / 1000
	r.genTok += max(t.PredictedN-1, 0)
	r.genS += t.PredictedMS / 1000
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
