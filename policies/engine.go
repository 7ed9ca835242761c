package policies

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"sync/atomic"
	"time"
)

// ErrNilConfig is returned by Reload when the loader returns no config.
var ErrNilConfig = errors.New("policies: loader returned a nil config")

// Engine serves decisions from the current config and swaps it atomically
// on reload. A request takes its Decision (or Config) once and keeps it, so
// a reload never changes what an in-flight request does.
type Engine struct {
	cfg atomic.Pointer[Config]
}

// NewEngine returns an engine serving cfg. A nil cfg serves the built-in
// defaults. cfg must not be modified afterwards.
func NewEngine(cfg *Config) *Engine {
	e := &Engine{}
	if cfg == nil {
		cfg = &Config{}
		cfg.SetDefaults()
	}
	e.cfg.Store(cfg)
	return e
}

// Config returns the config now in force. Treat it as read-only.
func (e *Engine) Config() *Config { return e.cfg.Load() }

// Decide resolves the action for a request under the current config.
func (e *Engine) Decide(f Facts) Decision { return Decide(e.cfg.Load(), f) }

// Reload calls load, applies defaults, validates the result and, only if it
// is valid, makes it the config in force. On error the old config stays and
// the error (naming the key at fault) is returned.
//
// The records sink is built once at start; a changed records section takes
// effect at the next restart.
func (e *Engine) Reload(load func() (*Config, error)) error {
	cfg, err := load()
	if err != nil {
		return fmt.Errorf("policies: reload: %w", err)
	}
	if cfg == nil {
		return ErrNilConfig
	}
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("policies: reload: %w", err)
	}
	e.cfg.Store(cfg)
	return nil
}

// Watch polls path every interval (1s if interval <= 0) until ctx is done
// and reloads through load whenever the file's size, modification time or
// content hash changes and then stays unchanged for one more poll (so a
// half-written file is never loaded). Each distinct content is tried once: an invalid
// file is logged (with the key at fault) and the old config keeps serving
// until the file changes again. A missing file is logged once and waited
// out (editors often replace files by rename). The file is reloaded once
// when watching starts, in case it changed since the caller loaded it.
func (e *Engine) Watch(ctx context.Context, path string, interval time.Duration, load func() (*Config, error), logger *slog.Logger) {
	if interval <= 0 {
		interval = time.Second
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	// The zero last state makes the first stable version reload: the file
	// may have changed since the caller's load, and a spare reload is
	// harmless.
	w := watcher{path: path}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			w.poll(e, load, logger)
		}
	}
}

// fileState identifies one version of a file.
type fileState struct {
	size    int64
	modTime time.Time
	sum     [sha256.Size]byte
}

func (a fileState) same(b fileState) bool {
	return a.size == b.size && a.modTime.Equal(b.modTime) && bytes.Equal(a.sum[:], b.sum[:])
}

type watcher struct {
	path    string
	last    fileState  // the version applied (or rejected) last
	pending *fileState // a new version seen once, applied if seen again
	missing bool
}

// fingerprint stats and hashes the file. Hashing catches edits that keep
// size and coarse mtime; config files are small, so it is cheap.
func (w *watcher) fingerprint() (fileState, error) {
	st, err := os.Stat(w.path)
	if err != nil {
		return fileState{}, err
	}
	b, err := os.ReadFile(w.path)
	if err != nil {
		return fileState{}, err
	}
	return fileState{size: st.Size(), modTime: st.ModTime(), sum: sha256.Sum256(b)}, nil
}

func (w *watcher) poll(e *Engine, load func() (*Config, error), logger *slog.Logger) {
	fs, err := w.fingerprint()
	if err != nil {
		if !w.missing {
			logger.Warn("policy file unreadable; keeping current policy", "path", w.path, "err", err)
			w.missing = true
		}
		return
	}
	w.missing = false
	if fs.same(w.last) {
		w.pending = nil
		return
	}
	// Reload only once the new version has stayed the same for a whole
	// interval, so a file caught mid-write (truncated, half written) is
	// never applied.
	if w.pending == nil || !fs.same(*w.pending) {
		w.pending = &fs
		return
	}
	w.last, w.pending = fs, nil
	prev := e.Config()
	if err := e.Reload(load); err != nil {
		logger.Error("policy reload rejected; keeping current policy", "path", w.path, "err", err)
		return
	}
	// The start-up check, or an edit outside the policies, changes nothing
	// in force: say so only at debug level.
	if reflect.DeepEqual(prev, e.Config()) {
		logger.Debug("policy file read again; policies unchanged", "path", w.path)
		return
	}
	logger.Info("policy reloaded", "path", w.path)
}
