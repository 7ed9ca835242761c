package policies

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWatcherQuietWhenUnchanged: the start-up reload of a file that did not
// change since it was loaded logs no "policy reloaded"; a real change does.
func TestWatcherQuietWhenUnchanged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "policies.yaml")
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("default: {mode: aligner}\nrules: [{match: {model: \"gpt-*\"}, action: {mode: stream}}]\n")
	load := fileLoader(path)
	cfg, err := load()
	if err != nil {
		t.Fatal(err)
	}
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	e := NewEngine(cfg)
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	w := watcher{path: path}
	w.poll(e, load, logger)
	w.poll(e, load, logger) // the start-up reload
	if strings.Contains(logs.String(), "policy reloaded") {
		t.Errorf("unchanged file logged a reload:\n%s", logs.String())
	}
	write("default: {mode: off}\n")
	w.poll(e, load, logger)
	w.poll(e, load, logger)
	if !strings.Contains(logs.String(), "policy reloaded") || e.Decide(Facts{}).Mode != ModeOff {
		t.Errorf("a real change was not reloaded and logged:\n%s", logs.String())
	}
}
