package llamacpp

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aligngate/aligngate/llamacpp/gguf"
)

const prompt = "The user asked a question and the assistant gave this answer:"

func TestGenerateGreedyIsDeterministic(t *testing.T) {
	e := openTiny(t, nil)
	res, pieces, err := generate(t, t.Context(), e, prompt, greedy(32))
	if err != nil {
		t.Fatal(err)
	}
	if res.FinishReason != FinishLength || res.CompletionTokens != 32 {
		t.Fatalf("finish %q after %d tokens, want length after 32", res.FinishReason, res.CompletionTokens)
	}
	if got := strings.Join(pieces, ""); got != res.Text || res.Text == "" {
		t.Fatalf("pieces %q do not add up to text %q", got, res.Text)
	}
	for _, p := range pieces {
		if !utf8.ValidString(p) {
			t.Fatalf("piece %q is not valid UTF-8", p)
		}
	}
	n, err := e.CountTokens(prompt)
	if err != nil || res.PromptTokens != n {
		t.Fatalf("prompt tokens %d, CountTokens %d (%v)", res.PromptTokens, n, err)
	}
	again, _, err := generate(t, t.Context(), e, prompt, greedy(32))
	if err != nil {
		t.Fatal(err)
	}
	if again.Text != res.Text {
		t.Fatalf("greedy output differs:\n%q\n%q", again.Text, res.Text)
	}
}

func TestSamplingIsSeeded(t *testing.T) {
	e := openTiny(t, nil)
	p := Params{MaxTokens: 24, Temperature: 1.5, TopK: 50, TopP: 0.95, MinP: 0.01, RepeatPenalty: 1.1, FrequencyPenalty: 0.2, Seed: 7}
	run := func(seed uint32) string {
		p.Seed = seed
		res, _, err := generate(t, t.Context(), e, prompt, p)
		if err != nil {
			t.Fatal(err)
		}
		return res.Text
	}
	a, b, c := run(7), run(7), run(8)
	if a != b {
		t.Fatalf("same seed, different text:\n%q\n%q", a, b)
	}
	if a == c {
		t.Fatalf("seeds 7 and 8 gave the same text %q", a)
	}
}

// TestGreedyAloneEqualsBatched checks that a request decoded in the same
// batches as three others produces exactly what it produces alone.
func TestGreedyAloneEqualsBatched(t *testing.T) {
	e := openTiny(t, nil)
	alone, _, err := generate(t, t.Context(), e, prompt, greedy(40))
	if err != nil {
		t.Fatal(err)
	}
	// Fresh engine so the batched run cannot reuse the cached prompt.
	e = openTiny(t, nil)
	others := []string{"Please make the following text more helpful:", "One two three", "What is the safe answer here?"}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	errs := make([]error, len(others))
	for i, o := range others {
		wg.Go(func() {
			// Long enough to still run when the measured request ends.
			_, errs[i] = e.Generate(ctx, o, greedy(400), nil)
		})
	}
	waitFor(t, func() bool { return e.Stats().BusySequences == len(others) })
	got, _, err := generate(t, t.Context(), e, prompt, greedy(40))
	cancel()
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	for i, err := range errs {
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("request %d ended with %v before the measured one: not decoded together", i, err)
		}
	}
	if got.Text != alone.Text {
		t.Fatalf("batched output differs from alone:\n%q\n%q", got.Text, alone.Text)
	}
}

func TestCancelFreesSequence(t *testing.T) {
	e := openTiny(t, func(c *Config) { c.Parallel = 1; c.QueueSize = 1 })
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(t.Context())
	pieces := 0
	res, err := e.Generate(ctx, prompt, greedy(450), func(string) error {
		pieces++
		if pieces == 3 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	if res.CompletionTokens >= 450 {
		t.Fatalf("generated %d tokens after cancel", res.CompletionTokens)
	}
	if s := e.Stats(); s.BusySequences != 0 || s.QueueDepth != 0 {
		t.Fatalf("after cancel: %+v", s)
	}
	// The only sequence must serve the next request.
	next, _, err := generate(t, t.Context(), e, "Another prompt entirely", greedy(8))
	if err != nil || next.CompletionTokens != 8 {
		t.Fatalf("next request: %+v, %v", next, err)
	}
	waitFor(t, func() bool { return runtime.NumGoroutine() <= before })
}

func TestCallbackErrorStopsGeneration(t *testing.T) {
	e := openTiny(t, func(c *Config) { c.Parallel = 1 })
	boom := errors.New("client went away")
	res, err := e.Generate(t.Context(), prompt, greedy(450), func(string) error { return boom })
	if !errors.Is(err, boom) {
		t.Fatalf("err %v, want the callback's", err)
	}
	if res.CompletionTokens >= 450 {
		t.Fatalf("generated %d tokens after the callback failed", res.CompletionTokens)
	}
	if _, _, err := generate(t, t.Context(), e, prompt, greedy(4)); err != nil {
		t.Fatalf("sequence not freed: %v", err)
	}
}

func TestQueueFullAndQueuedCancel(t *testing.T) {
	e := openTiny(t, func(c *Config) { c.Parallel = 1; c.QueueSize = 1 })
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	running := make(chan error, 1)
	go func() { _, err := e.Generate(ctx, prompt, greedy(450), nil); running <- err }()
	waitFor(t, func() bool { return e.Stats().BusySequences == 1 })

	qctx, qcancel := context.WithCancel(t.Context())
	queued := make(chan error, 1)
	go func() { _, err := e.Generate(qctx, prompt, greedy(4), nil); queued <- err }()
	waitFor(t, func() bool { return e.Stats().QueueDepth == 1 })

	if _, err := e.Generate(t.Context(), prompt, greedy(4), nil); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("third request: %v, want ErrQueueFull", err)
	}
	qcancel()
	if err := <-queued; !errors.Is(err, context.Canceled) {
		t.Fatalf("queued request: %v, want context.Canceled", err)
	}
	cancel()
	if err := <-running; !errors.Is(err, context.Canceled) {
		t.Fatalf("running request: %v, want context.Canceled", err)
	}
}

func TestStopStrings(t *testing.T) {
	e := openTiny(t, nil)
	full, _, err := generate(t, t.Context(), e, prompt, greedy(40))
	if err != nil {
		t.Fatal(err)
	}
	// Stop at a stretch from the middle of the greedy text.
	at := len(full.Text) / 2
	stop := full.Text[at : at+3]
	want := full.Text[:strings.Index(full.Text, stop)]
	res, pieces, err := generate(t, t.Context(), e, prompt, Params{MaxTokens: 40, Stop: []string{"\x00never", stop}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Text != want || res.FinishReason != FinishStop {
		t.Fatalf("got %q (%s), want %q (stop)", res.Text, res.FinishReason, want)
	}
	if got := strings.Join(pieces, ""); got != want {
		t.Fatalf("streamed %q, want %q", got, want)
	}
}

func TestPrefixReuse(t *testing.T) {
	e := openTiny(t, func(c *Config) { c.Parallel = 2 })
	template := strings.Repeat("Edit the following answer to make it more helpful and harmless. ", 8)
	first := template + "Question: how are you? Answer: fine"
	second := template + "Question: what is this? Answer: a test"
	r1, _, err := generate(t, t.Context(), e, first, greedy(8))
	if err != nil {
		t.Fatal(err)
	}
	if r1.ReusedTokens != 0 || r1.EvaluatedTokens != r1.PromptTokens {
		t.Fatalf("first request reused tokens: %+v", r1)
	}
	r2, _, err := generate(t, t.Context(), e, second, greedy(8))
	if err != nil {
		t.Fatal(err)
	}
	t1, _ := e.Tokenize(first)
	t2, _ := e.Tokenize(second)
	shared := 0
	for shared < len(t1) && t1[shared] == t2[shared] {
		shared++
	}
	if shared < 100 {
		t.Fatalf("test prompts share only %d tokens", shared)
	}
	if r2.ReusedTokens != shared || r2.EvaluatedTokens != len(t2)-shared || r2.PromptTokens != len(t2) {
		t.Fatalf("second request: %+v, want %d reused and %d evaluated", r2, shared, len(t2)-shared)
	}
	// The same prompt again re-evaluates only its last token and, reading
	// the cached KV, continues exactly as before.
	r3, _, err := generate(t, t.Context(), e, second, greedy(8))
	if err != nil {
		t.Fatal(err)
	}
	if r3.EvaluatedTokens != 1 || r3.Text != r2.Text {
		t.Fatalf("repeat: %+v, want 1 evaluated and text %q", r3, r2.Text)
	}
}

// TestPrefixReusePicksBestSlot checks a prompt goes to the sequence that
// caches its prefix, not merely a free one.
func TestPrefixReusePicksBestSlot(t *testing.T) {
	e := openTiny(t, func(c *Config) { c.Parallel = 2 })
	a := strings.Repeat("alpha beta gamma delta ", 10)
	b := strings.Repeat("one two three four five ", 10)
	for _, p := range []string{a, b} {
		if _, _, err := generate(t, t.Context(), e, p+"end", greedy(2)); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{a, b, a} {
		res, _, err := generate(t, t.Context(), e, p+"tail", greedy(2))
		if err != nil {
			t.Fatal(err)
		}
		n, _ := e.CountTokens(p)
		if res.ReusedTokens < n-1 {
			t.Fatalf("prompt %.20q reused %d tokens, want >= %d", p, res.ReusedTokens, n-1)
		}
	}
}

func TestGenerateErrors(t *testing.T) {
	e := openTiny(t, func(c *Config) { c.ContextSize = 64 })
	long := strings.Repeat("word ", 100)
	tests := []struct {
		name   string
		prompt string
		params Params
		want   error
	}{
		{"empty prompt", "", greedy(4), ErrEmptyPrompt},
		{"prompt longer than context", long, greedy(4), ErrPromptTooLong},
		{"zero max tokens", prompt, greedy(0), ErrInvalidParams},
		{"negative max tokens", prompt, greedy(-1), ErrInvalidParams},
		{"negative temperature", prompt, Params{MaxTokens: 4, Temperature: -1}, ErrInvalidParams},
		{"top-p above 1", prompt, Params{MaxTokens: 4, TopP: 1.5}, ErrInvalidParams},
		{"empty stop string", prompt, Params{MaxTokens: 4, Stop: []string{""}}, ErrInvalidParams},
		{"stop string not UTF-8", prompt, Params{MaxTokens: 4, Stop: []string{"\xff"}}, ErrInvalidParams},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := e.Generate(t.Context(), tt.prompt, tt.params, nil); !errors.Is(err, tt.want) {
				t.Fatalf("err %v, want %v", err, tt.want)
			}
		})
	}
	// A prompt that fits but leaves little room ends with "length".
	res, _, err := generate(t, t.Context(), e, prompt, greedy(1000))
	if err != nil || res.FinishReason != FinishLength || res.PromptTokens+res.CompletionTokens > 64+1 {
		t.Fatalf("near-full context: %+v, %v", res, err)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	random := filepath.Join(dir, "random.gguf")
	if err := os.WriteFile(random, []byte(strings.Repeat("not a model at all ", 100)), 0o600); err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(dir, "truncated.gguf")
	data, err := os.ReadFile(tinyModel(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(truncated, data[:len(data)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path string
		want       error
	}{
		{"missing file", filepath.Join(dir, "missing.gguf"), ErrModel},
		{"random bytes", random, ErrModel},
		{"truncated", truncated, ErrModel},
		{"no model configured", "", ErrModel},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Open(Config{ModelPath: tt.path, LibDir: dir}, nil)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err %v, want %v", err, tt.want)
			}
			if tt.path != "" && !strings.Contains(err.Error(), tt.path) {
				t.Fatalf("error %q does not name the file", err)
			}
		})
	}
	t.Run("missing library", func(t *testing.T) {
		_, err := Open(Config{ModelPath: tinyModel(t), LibDir: filepath.Join(dir, "nolib")}, nil)
		if !errors.Is(err, ErrLibrary) || !strings.Contains(err.Error(), "libllama.so not found") || !strings.Contains(err.Error(), "install-llama.sh") {
			t.Fatalf("err %v, want ErrLibrary naming the file and the install script", err)
		}
	})
	t.Run("wrong library", func(t *testing.T) {
		// libffi stands in for a libggml-base.so without ggml_version().
		ffi := "/usr/lib/x86_64-linux-gnu/libffi.so.8"
		if _, err := os.Stat(ffi); err != nil {
			t.Skip("no libffi.so.8 to stand in for a foreign library")
		}
		fake := filepath.Join(dir, "fake")
		if err := os.MkdirAll(fake, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, name := range requiredLibs {
			if err := os.Symlink(ffi, filepath.Join(fake, name)); err != nil {
				t.Fatal(err)
			}
		}
		_, err := Open(Config{ModelPath: tinyModel(t), LibDir: fake}, nil)
		t.Log(err)
		if !errors.Is(err, ErrLibrary) || !strings.Contains(err.Error(), "install-llama.sh") {
			t.Fatalf("err %v, want ErrLibrary naming the install script", err)
		}
	})
}

func TestTokenizeRoundTrip(t *testing.T) {
	e := openTiny(t, nil)
	text := "Hello, world: the answer is 42!"
	toks, err := e.Tokenize(text)
	if err != nil {
		t.Fatal(err)
	}
	if len(toks) < 2 || toks[0] != 1 {
		t.Fatalf("tokens %v: want BOS (1) first", toks)
	}
	got, err := e.Detokenize(toks)
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(got) != text {
		t.Fatalf("round trip %q, want %q", got, text)
	}
	if _, err := e.Detokenize([]int32{1 << 20}); !errors.Is(err, ErrInvalidParams) {
		t.Fatalf("out-of-vocabulary token: %v", err)
	}
	if e.ContextSize() != 512 || len(e.ModelID()) != 64 {
		t.Fatalf("context %d, model id %q", e.ContextSize(), e.ModelID())
	}
}

func TestClose(t *testing.T) {
	e := openTiny(t, nil)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	running := make(chan error, 1)
	go func() { _, err := e.Generate(ctx, prompt, greedy(450), nil); running <- err }()
	waitFor(t, func() bool { return e.Stats().BusySequences == 1 })
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-running; !errors.Is(err, ErrClosed) {
		t.Fatalf("running request: %v, want ErrClosed", err)
	}
	if _, err := e.Generate(t.Context(), prompt, greedy(4), nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("after close: %v", err)
	}
	if _, err := e.Tokenize("x"); !errors.Is(err, ErrClosed) {
		t.Fatalf("tokenize after close: %v", err)
	}
	if err := e.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
}

// waitFor polls cond; it fails the test if cond stays false for long.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for range 2000 {
		if cond() {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("condition not reached")
}

// TestWeightTypes loads the tiny model with each weight type the GGUF
// writer supports; the benchmark model uses Q8_0.
func TestWeightTypes(t *testing.T) {
	lib := libDir(t)
	for _, typ := range []gguf.TensorType{gguf.F16, gguf.Q8_0, gguf.Q4_0} {
		t.Run(typ.String(), func(t *testing.T) {
			spec := gguf.TinySpec()
			spec.Type = typ
			path := filepath.Join(t.TempDir(), "m.gguf")
			if err := gguf.WriteLlama(path, spec); err != nil {
				t.Fatal(err)
			}
			e, err := Open(Config{ModelPath: path, LibDir: lib, ContextSize: 128, Parallel: 1, Threads: 1}, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			res, _, err := generate(t, t.Context(), e, prompt, greedy(4))
			if err != nil || res.CompletionTokens != 4 {
				t.Fatalf("%+v, %v", res, err)
			}
		})
	}
}
