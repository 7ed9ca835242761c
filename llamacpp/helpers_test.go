package llamacpp

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/aligngate/aligngate/internal/testenv"
	"github.com/aligngate/aligngate/llamacpp/gguf"
)

// libDir returns YZMA_LIB, skipping the test when it is unset (failing
// under CI, where the libraries must be installed).
func libDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("YZMA_LIB")
	if dir != "" {
		if _, err := os.Stat(filepath.Join(dir, "libllama.so")); err == nil {
			return dir
		}
	}
	testenv.Missing(t, "llama.cpp libraries not found: run scripts/install-llama.sh and export YZMA_LIB=$PWD/.llama/lib")
	return ""
}

// tinyModel writes the tiny random model into a temporary folder.
func tinyModel(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tiny.gguf")
	if err := gguf.WriteLlama(path, gguf.TinySpec()); err != nil {
		t.Fatal(err)
	}
	return path
}

// openTiny opens an engine on the tiny model; edit adjusts the config.
func openTiny(t testing.TB, edit func(*Config)) *Engine {
	t.Helper()
	cfg := Config{ModelPath: tinyModel(t), LibDir: libDir(t), ContextSize: 512, Parallel: 4, Threads: 1, BatchSize: 256}
	if edit != nil {
		edit(&cfg)
	}
	e, err := Open(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

// greedy returns greedy parameters for n tokens.
func greedy(n int) Params { return Params{MaxTokens: n} }

// generate runs Generate and collects the streamed pieces.
func generate(t testing.TB, ctx context.Context, e *Engine, prompt string, p Params) (Result, []string, error) {
	t.Helper()
	var pieces []string
	res, err := e.Generate(ctx, prompt, p, func(s string) error {
		pieces = append(pieces, s)
		return nil
	})
	return res, pieces, err
}
