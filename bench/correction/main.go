// Command correction measures the latency that correction adds to a
// streamed answer, on the in-process llama.cpp engine: time to the first
// corrected token in aligner mode (whole answer, corrected after the
// upstream ends) and in stream mode (Stream Aligner, sentence by sentence),
// the cost of one sentence correction, and the latency each sentence gains
// along the answer, which prefix reuse in the engine keeps flat.
//
//	go run ./bench/correction [-model file.gguf] [-runs 5] [-max-tokens 20]
//
// The mock upstream streams six sentences of 14-15 words at one word per
// 20 ms (50 tokens/s). The proxy is built in-process with proxy.New and the
// real engine, wrapped to time each generation; the client streams. Without
// -model it writes the tiny random test model to a temporary folder. It
// prints a Markdown report; see bench/correction/run.sh.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/aligngate/aligngate/config"
	"github.com/aligngate/aligngate/correct"
	"github.com/aligngate/aligngate/llamacorrect"
	"github.com/aligngate/aligngate/llamacpp"
	"github.com/aligngate/aligngate/llamacpp/gguf"
	"github.com/aligngate/aligngate/policies"
	"github.com/aligngate/aligngate/proxy"
)

// options are the command's flags.
type options struct {
	model     string
	lib       string
	runs      int
	interval  time.Duration
	maxTokens int
	answers   string   // "synthetic" or "mtbench"
	answer    []string // the upstream's answer, one sentence each
	threads   int
	ctxSize   int
	parallel  int
	control   bool
}

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench/correction:", err)
		os.Exit(1)
	}
}

func parse(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("correction", flag.ContinueOnError)
	fs.StringVar(&o.model, "model", "", "GGUF model (default: the tiny random test model, written to a temporary folder)")
	fs.StringVar(&o.lib, "lib", os.Getenv("YZMA_LIB"), "folder with libllama.so (default $YZMA_LIB, else .llama/lib)")
	fs.IntVar(&o.runs, "runs", 5, "measured runs per mode (after one warm-up run)")
	fs.DurationVar(&o.interval, "interval", 20*time.Millisecond, "upstream pace: one word per interval")
	fs.IntVar(&o.maxTokens, "max-tokens", 20, "policy max_tokens: tokens per correction (a random model rarely stops by itself)")
	fs.IntVar(&o.threads, "threads", 0, "llamacpp.threads (default: all CPUs)")
	fs.IntVar(&o.ctxSize, "ctx", 2048, "llamacpp.context_size")
	fs.IntVar(&o.parallel, "parallel", 4, "llamacpp.parallel")
	fs.StringVar(&o.answers, "answers", "synthetic", `upstream answer: "synthetic" (6 sentences of 14-15 words) or "mtbench" (the first prose MT-bench GPT-4 reference answer with 6+ sentences, from ../shared/data)`)
	fs.BoolVar(&o.control, "control", true, "also time each sentence's correction with prefix reuse defeated")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.lib == "" {
		o.lib = llamacpp.DefaultLibDir
	}
	if o.runs < 1 {
		return o, fmt.Errorf("-runs %d: want at least 1", o.runs)
	}
	switch o.answers {
	case "synthetic":
		o.answer = syntheticAnswer
	case "mtbench":
		a, err := mtBenchAnswer(6)
		if err != nil {
			return o, err
		}
		o.answer = a
	default:
		return o, fmt.Errorf("-answers %q: want synthetic or mtbench", o.answers)
	}
	return o, nil
}

func run(args []string, w io.Writer) error {
	o, err := parse(args)
	if err != nil {
		return err
	}
	gin.SetMode(gin.ReleaseMode) // no route listing on stdout
	if o.model == "" {
		dir, err := os.MkdirTemp("", "bench-correction-")
		if err != nil {
			return fmt.Errorf("temp dir: %w", err)
		}
		defer os.RemoveAll(dir)
		o.model = filepath.Join(dir, "tiny.gguf")
		if err := gguf.WriteLlama(o.model, gguf.TinySpec()); err != nil {
			return err
		}
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ecfg := llamacpp.Config{ModelPath: o.model, LibDir: o.lib, Threads: o.threads, ContextSize: o.ctxSize, Parallel: o.parallel}
	e, err := llamacpp.Open(ecfg, log)
	if err != nil {
		return err
	}
	defer e.Close()
	b, err := newBench(o, e, log)
	if err != nil {
		return err
	}
	defer b.close()
	res, err := b.measure(context.Background())
	if err != nil {
		return err
	}
	ecfg.SetDefaults()
	res.env = environment(o, ecfg)
	return res.write(w)
}

// bench is the mock upstream and the proxy in front of it.
type bench struct {
	o      options
	engine *llamacpp.Engine
	model  *timedModel
	mock   *upstream
	up, px *httptest.Server
	client *http.Client
	seq    int // requests sent, to make every question unique
}

// newBench starts the mock upstream and a proxy that corrects with e; the
// mode comes from each request's X-Aligngate-Mode header.
func newBench(o options, e *llamacpp.Engine, log *slog.Logger) (*bench, error) {
	b := &bench{o: o, engine: e, model: &timedModel{engine: llamacorrect.New(e)}, mock: newUpstream(o.answer, o.interval)}
	b.up = httptest.NewServer(b.mock)
	cfg := config.Default()
	cfg.Upstreams = []config.Upstream{{Name: "mock", BaseURL: b.up.URL + "/v1"}}
	yes, budget := true, 10*time.Minute
	cfg.Policies.Default.Mode = correct.ModeStream
	cfg.Policies.Default.AllowModeHeader = &yes
	cfg.Policies.Default.MaxTokens = &o.maxTokens
	cfg.Policies.Default.Budget = &budget
	cfg.Correct.Backend = correct.BackendLocal
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		b.close()
		return nil, fmt.Errorf("config: %w", err)
	}
	cor, err := correct.New(cfg.Correct, map[string]correct.Model{correct.BackendLocal: b.model}, nil, log)
	if err != nil {
		b.close()
		return nil, err
	}
	s, err := proxy.New(&cfg.Config, proxy.Options{Logger: log, Policies: policies.NewEngine(&cfg.Policies), Corrector: cor,
		Correction: proxy.CorrectionSettings{Backend: cfg.Correct.Backend, Drive: cfg.Correct.Drive, MultiTurn: cfg.Correct.MultiTurn}})
	if err != nil {
		b.close()
		return nil, err
	}
	b.px = httptest.NewServer(s.Handler())
	b.client = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	return b, nil
}

func (b *bench) close() {
	if b.px != nil {
		b.px.Close()
	}
	b.up.Close()
}

// once sends one streamed request in mode and returns what the client saw,
// the upstream's sentence ends and the generations it caused.
func (b *bench) once(ctx context.Context, mode string) (streamed, []time.Time, []call, error) {
	b.seq++
	question := fmt.Sprintf("Request %d: tell me the history of the Eiffel Tower.", b.seq)
	b.model.take()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	s, err := chatStream(ctx, b.client, b.px.URL, mode, question)
	return s, b.mock.sentenceEnds(), b.model.take(), err
}

// results are the samples of all measured runs.
type results struct {
	env       []string
	runs      int
	sentences int
	aligner   []alignerSample
	stream    []streamSample
	noReuse   [][]call // per sentence, the control generations
}

// measure runs one warm-up round and o.runs measured rounds, alternating
// which mode goes first, then the no-reuse control.
func (b *bench) measure(ctx context.Context) (*results, error) {
	res := &results{runs: b.o.runs, sentences: len(b.o.answer)}
	var last []call
	for r := -1; r < b.o.runs; r++ {
		modes := []string{correct.ModeAligner, correct.ModeStream}
		if r%2 != 0 {
			modes[0], modes[1] = modes[1], modes[0]
		}
		for _, mode := range modes {
			s, ends, calls, err := b.once(ctx, mode)
			if err != nil {
				return nil, fmt.Errorf("run %d: %w", r+1, err)
			}
			if err := res.add(r >= 0, mode, s, ends, calls); err != nil {
				return nil, fmt.Errorf("run %d: %w", r+1, err)
			}
			if mode == correct.ModeStream {
				last = calls
			}
			fmt.Fprintf(os.Stderr, "run %d/%d %s: %d generations\n", r+1, b.o.runs, mode, len(calls))
		}
	}
	if b.o.control {
		var err error
		if res.noReuse, err = b.control(ctx, last); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// add records one run's samples when keep is set, after checking that the
// run lines up either way.
func (r *results) add(keep bool, mode string, s streamed, ends []time.Time, calls []call) error {
	if mode == correct.ModeAligner {
		a, err := newAlignerSample(s, ends, calls)
		if keep && err == nil {
			r.aligner = append(r.aligner, a)
		}
		return err
	}
	st, err := newStreamSample(s, ends, calls)
	if keep && err == nil {
		r.stream = append(r.stream, st)
	}
	return err
}

// control regenerates each sentence correction of one stream run with the
// KV cache prefix reuse defeated (a unique marker before the prompt), runs
// times per sentence: what each sentence would cost without reuse.
func (b *bench) control(ctx context.Context, calls []call) ([][]call, error) {
	out := make([][]call, len(calls))
	for k, c := range calls {
		for i := range b.o.runs {
			b.seq++
			prompt := fmt.Sprintf("[%d] %s", b.seq, c.Prompt)
			cc := call{Prompt: prompt, Params: c.Params, Start: time.Now()}
			cc.Result, cc.Err = b.model.engine.Generate(ctx, prompt, c.Params, nil)
			cc.End = time.Now()
			if cc.Err != nil {
				return nil, fmt.Errorf("control sentence %d run %d: %w", k+1, i+1, cc.Err)
			}
			out[k] = append(out[k], cc)
		}
	}
	return out, nil
}

// environment describes the machine and settings for the report.
func environment(o options, e llamacpp.Config) []string {
	size := int64(0)
	if fi, err := os.Stat(o.model); err == nil {
		size = fi.Size()
	}
	return []string{
		fmt.Sprintf("date %s, %s, GOMAXPROCS=%d, NumCPU=%d, load average %s", time.Now().UTC().Format("2006-01-02 15:04 MST"),
			runtime.Version(), runtime.GOMAXPROCS(0), runtime.NumCPU(), loadAverage()),
		fmt.Sprintf("model %s (%.1f MB); llamacpp threads=%d context_size=%d parallel=%d batch_size=%d",
			filepath.Base(o.model), float64(size)/1e6, e.Threads, e.ContextSize, e.Parallel, e.BatchSize),
		fmt.Sprintf("upstream: %d sentences, %d words, one word per %s; policy max_tokens=%d; %d measured runs per mode after 1 warm-up",
			len(o.answer), len(words(o.answer)), o.interval, o.maxTokens, o.runs),
	}
}

// loadAverage returns the 1, 5 and 15 minute load averages, or "?".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil || len(b) < 14 {
		return "?"
	}
	var a, c, d string
	if _, err := fmt.Sscan(string(b), &a, &c, &d); err != nil {
		return "?"
	}
	return a + " " + c + " " + d
}
