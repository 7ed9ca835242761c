package policies

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
)

func loaderOf(cfg *Config, err error) func() (*Config, error) {
	return func() (*Config, error) { return cfg, err }
}

func TestEngineReloadKeepsInFlightDecision(t *testing.T) {
	old := &Config{Default: Action{Mode: ModeOff}}
	e := NewEngine(old)

	holding := make(chan Decision)
	release := make(chan struct{})
	var wg sync.WaitGroup
	var inFlight Decision
	wg.Add(1)
	go func() { // an in-flight request: decides, then works for a while
		defer wg.Done()
		d := e.Decide(Facts{Model: "m"})
		holding <- d
		<-release
		inFlight = d
	}()
	<-holding

	if err := e.Reload(loaderOf(&Config{Default: Action{Mode: ModeAligner}}, nil)); err != nil {
		t.Fatal(err)
	}
	if got := e.Decide(Facts{Model: "m"}); got.Mode != ModeAligner {
		t.Errorf("new request after reload: mode %q, want aligner", got.Mode)
	}
	close(release)
	wg.Wait()
	if inFlight.Mode != ModeOff {
		t.Errorf("in-flight request changed to %q", inFlight.Mode)
	}
	if old.Default.Mode != ModeOff {
		t.Error("old config was mutated")
	}
}

func TestEngineReloadRejectsInvalid(t *testing.T) {
	e := NewEngine(&Config{Default: Action{Mode: ModeAligner}})
	bad := &Config{Rules: []Rule{{}, {Match: Match{Model: "[oops"}}}}
	err := e.Reload(loaderOf(bad, nil))
	if err == nil || !strings.Contains(err.Error(), "policies.rules[1].match.model") {
		t.Fatalf("Reload(invalid) = %v, want error naming the key", err)
	}
	if got := e.Decide(Facts{}); got.Mode != ModeAligner {
		t.Errorf("old policy must keep serving, got mode %q", got.Mode)
	}
	loadErr := errors.New("yaml: line 3: mapping values are not allowed")
	if err := e.Reload(loaderOf(nil, loadErr)); !errors.Is(err, loadErr) {
		t.Errorf("loader error not wrapped: %v", err)
	}
	if err := e.Reload(loaderOf(nil, nil)); !errors.Is(err, ErrNilConfig) {
		t.Errorf("nil config: %v", err)
	}
	if got := e.Decide(Facts{}); got.Mode != ModeAligner {
		t.Errorf("old policy must keep serving, got mode %q", got.Mode)
	}
}

func TestEngineNilConfig(t *testing.T) {
	e := NewEngine(nil)
	if got := e.Decide(Facts{}); got.Mode != ModeOff || !got.Cache {
		t.Errorf("nil config: %+v", got)
	}
	if e.Config() == nil || e.Config().Default.Fail != FailOpen {
		t.Errorf("nil config must be defaulted: %+v", e.Config())
	}
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func fileLoader(path string) func() (*Config, error) {
	return func() (*Config, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		var c Config
		if err := yaml.Unmarshal(b, &c); err != nil {
			return nil, err
		}
		return &c, nil
	}
}

// waitFor polls cond without asserting any duration: the test deadline is
// the only limit.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		if t.Context().Err() != nil {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestEngineWatch(t *testing.T) {
	path := filepath.Join(t.TempDir(), "policies.yaml")
	write := func(s string) { // atomically, as config deployers do
		t.Helper()
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
	write("default: {mode: off}\n")
	load := fileLoader(path)
	cfg, err := load()
	if err != nil {
		t.Fatal(err)
	}
	e := NewEngine(cfg)
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); e.Watch(ctx, path, 10*time.Millisecond, load, logger) }()

	write("default: {mode: aligner}\n")
	waitFor(t, "valid change", func() bool { return e.Decide(Facts{}).Mode == ModeAligner })

	write("default: {mode: aligner}\nrules: [{match: {model: \"[\"}}]\n")
	waitFor(t, "rejection logged", func() bool { return strings.Contains(logs.String(), "reload rejected") })
	if !strings.Contains(logs.String(), "policies.rules[0].match.model") {
		t.Errorf("log does not name the key at fault:\n%s", logs.String())
	}
	if got := e.Decide(Facts{}); got.Mode != ModeAligner {
		t.Errorf("invalid file replaced the policy: %q", got.Mode)
	}

	// Same size, new content: caught by the content hash.
	write("default: {mode: stream }\n")
	waitFor(t, "same-size change", func() bool { return e.Decide(Facts{}).Mode == ModeStream })

	os.Remove(path)
	waitFor(t, "missing file logged", func() bool { return strings.Contains(logs.String(), "unreadable") })
	write("default: {mode: off}\n")
	waitFor(t, "file back", func() bool { return e.Decide(Facts{}).Mode == ModeOff })

	cancel()
	<-done
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// TestWatcherSkipsHalfWrittenFile drives the poller by hand: a version is
// applied only when two polls in a row see it.
func TestWatcherSkipsHalfWrittenFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "policies.yaml")
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	e := NewEngine(&Config{Default: Action{Mode: ModeAligner}})
	w := watcher{path: path}
	poll := func() { w.poll(e, fileLoader(path), discardLogger()) }

	write("default: {mode: aligner}\n")
	poll()
	poll()    // startup reload of the same policy
	write("") // truncated mid-write: valid YAML, but only a moment's state
	poll()
	if got := e.Decide(Facts{}).Mode; got != ModeAligner {
		t.Fatalf("half-written file applied: mode %q", got)
	}
	write("default: {mode: stream}\n")
	poll()
	if got := e.Decide(Facts{}).Mode; got != ModeAligner {
		t.Fatalf("version seen once applied: mode %q", got)
	}
	poll()
	if got := e.Decide(Facts{}).Mode; got != ModeStream {
		t.Fatalf("stable version not applied: mode %q", got)
	}
}
