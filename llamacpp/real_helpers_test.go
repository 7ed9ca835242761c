package llamacpp

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/aligngate/aligngate/internal/dataset"
	"github.com/aligngate/aligngate/internal/testenv"
)

// openReal opens an engine on the real model, 1 thread, 4 sequences; edit,
// when set, changes the config first.
func openReal(t testing.TB, edit func(*Config)) *Engine {
	t.Helper()
	cfg := Config{ModelPath: testenv.RealModel(t), LibDir: libDir(t), ContextSize: 2048, Parallel: 4, Threads: 1, BatchSize: 512}
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

// llamaTool returns the path of one of llama.cpp's own programs in
// $LLAMA_TOOLS_BIN (built by scripts/build-llama-tools.sh).
func llamaTool(t testing.TB, name string) string {
	t.Helper()
	dir := os.Getenv("LLAMA_TOOLS_BIN")
	if dir == "" {
		testenv.Missing(t, "LLAMA_TOOLS_BIN not set: run scripts/build-llama-tools.sh %s", name)
	}
	path := filepath.Join(dir, name)
	if _, err := os.Stat(path); err != nil {
		testenv.Missing(t, "%s not found: %v", name, err)
	}
	return path
}

// pairs reads n pairs of a data set with read, keeping those keep accepts.
func pairs(t testing.TB, file string, read func(string) ([]dataset.Pair, error), n int, keep func(dataset.Pair) bool) []dataset.Pair {
	t.Helper()
	path, err := dataset.Path(file)
	if err == nil {
		_, err = os.Stat(path)
	}
	if err != nil {
		testenv.Missing(t, "evaluation data not found: %v", err)
	}
	all, err := read(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []dataset.Pair
	for _, p := range all {
		if len(out) < n && (keep == nil || keep(p)) {
			out = append(out, p)
		}
	}
	if len(out) < n {
		t.Fatalf("%s: only %d of %d pairs wanted", file, len(out), n)
	}
	return out
}

// Markers of ChatML and SmolLM2's vocabulary that must never reach a client.
var specialMarkers = []string{"<|im_start|>", "<|im_end|>", "<|endoftext|>"}
