package llamacpp

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"

	"github.com/aligngate/aligngate/llamacpp/gguf"
	"github.com/hybridgroup/yzma/pkg/llama"
)

// Stats is a snapshot of the engine's load, for telemetry gauges.
type Stats struct {
	QueueDepth    int // requests waiting for a sequence
	BusySequences int // sequences generating now
	Parallel      int // sequences available
	Draft         DraftStats
}

// Engine is a loaded model serving concurrent generations. It is safe for
// concurrent use.
type Engine struct {
	cfg     Config
	log     *slog.Logger
	modelID string

	mu     sync.RWMutex // guards model and vocab against Close
	closed bool
	model  llama.Model
	vocab  llama.Vocab

	sched     *scheduler
	closeOnce sync.Once
	inflight  atomic.Int64 // admitted requests: waiting or running
}

// Open loads the libraries and the model in cfg and starts the scheduler.
// cfg is defaulted and validated here too.
func Open(cfg Config, logger *slog.Logger) (*Engine, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.ModelPath == "" {
		return nil, fmt.Errorf("%w: no model_path configured", ErrModel)
	}
	info, err := inspectModel(cfg.ModelPath)
	if err != nil {
		return nil, err
	}
	if err := loadLibrary(cfg.LibDir); err != nil {
		return nil, err
	}
	log := logger.With("component", "llamacpp", "model", cfg.ModelPath)
	model, err := loadModel(cfg, info, log)
	if err != nil {
		return nil, err
	}
	lctx, err := llama.InitFromModel(model, contextParams(cfg))
	if err != nil {
		_ = llama.ModelFree(model)
		return nil, fmt.Errorf("%w: %s: creating context of %d tokens: %w", ErrModel, cfg.ModelPath, cfg.ContextSize*cfg.Parallel, err)
	}
	e := &Engine{cfg: cfg, log: log, modelID: info.ID, model: model, vocab: llama.ModelGetVocab(model)}
	e.sched, err = newScheduler(e, lctx)
	if err != nil {
		_ = llama.Free(lctx)
		_ = llama.ModelFree(model)
		return nil, err
	}
	go e.sched.run()
	log.Info("llama.cpp engine ready", "context_size", cfg.ContextSize, "parallel", cfg.Parallel,
		"threads", cfg.Threads, "batch_size", cfg.BatchSize, "gpu_layers", cfg.GPULayers, "model_id", info.ID[:16])
	return e, nil
}

// inspectModel checks the file is a complete GGUF file before llama.cpp
// sees it, so errors name the path and the problem.
func inspectModel(path string) (gguf.Info, error) {
	info, err := gguf.Inspect(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return info, fmt.Errorf("%w: %s: no such file", ErrModel, path)
	case err != nil:
		return info, fmt.Errorf("%w: %s: %w", ErrModel, path, err)
	}
	return info, nil
}

// loadModel memory-maps the model, logging progress in quarters.
func loadModel(cfg Config, info gguf.Info, log *slog.Logger) (llama.Model, error) {
	mp := llama.ModelDefaultParams()
	mp.NGpuLayers = int32(cfg.GPULayers)
	mp.LoadMode = llama.LoadModeMmap
	next := float32(0)
	mp.SetProgressCallback(func(p float32, _ uintptr) uint8 {
		if p >= next {
			log.Info("loading model", "progress_pct", int(p*100))
			next = p + 0.25
		}
		return 1
	})
	log.Info("loading model", "arch", info.Arch, "bytes", info.FileSize, "tensors", info.TensorCount)
	model, err := llama.ModelLoadFromFile(cfg.ModelPath, mp)
	if err != nil {
		return 0, fmt.Errorf("%w: %s: llama.cpp could not load it (unsupported architecture or corrupt tensors): %w", ErrModel, cfg.ModelPath, err)
	}
	return model, nil
}

func contextParams(cfg Config) llama.ContextParams {
	cp := llama.ContextDefaultParams()
	cp.NCtx = uint32(cfg.ContextSize * cfg.Parallel)
	cp.NBatch = uint32(cfg.BatchSize)
	cp.NUbatch = uint32(cfg.BatchSize)
	cp.NSeqMax = uint32(cfg.Parallel)
	cp.NThreads = int32(cfg.Threads)
	cp.NThreadsBatch = int32(cfg.Threads)
	// One KV stream per sequence (not unified): a token attends only to
	// its own sequence's cells, so the caches that finished requests leave
	// behind for prefix reuse cost the running ones nothing.
	cp.KVUnified = 0
	cp.NoPerf = 1
	return cp
}

// ModelID is a stable identity of the model file for cache keys: sha256 of
// the GGUF header, metadata and tensor table plus the file size.
func (e *Engine) ModelID() string { return e.modelID }

// ContextSize is the most tokens (prompt plus generated) one request may use.
func (e *Engine) ContextSize() int { return e.cfg.ContextSize }

// Stats reports queue depth, busy sequences and drafting totals.
func (e *Engine) Stats() Stats {
	busy := int(e.sched.busy.Load())
	queued := max(int(e.inflight.Load())-busy, 0)
	return Stats{QueueDepth: queued, BusySequences: busy, Parallel: e.cfg.Parallel, Draft: e.sched.drafts.snapshot()}
}

// Tokenize returns the tokens Generate would evaluate for text: the model's
// BOS token first when it adds one, special tokens parsed.
func (e *Engine) Tokenize(text string) ([]int32, error) {
	toks, err := e.tokenize(text)
	if err != nil {
		return nil, err
	}
	out := make([]int32, len(toks))
	for i, t := range toks {
		out[i] = int32(t)
	}
	return out, nil
}

// CountTokens returns len(Tokenize(text)), for length budgets.
func (e *Engine) CountTokens(text string) (int, error) {
	toks, err := e.tokenize(text)
	return len(toks), err
}

// Detokenize renders tokens as text, special tokens removed.
func (e *Engine) Detokenize(toks []int32) (string, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed {
		return "", ErrClosed
	}
	n := llama.VocabNTokens(e.vocab)
	lt := make([]llama.Token, len(toks))
	for i, t := range toks {
		if t < 0 || t >= n {
			return "", fmt.Errorf("%w: token %d outside vocabulary of %d", ErrInvalidParams, t, n)
		}
		lt[i] = llama.Token(t)
	}
	return llama.Detokenize(e.vocab, lt, true, false), nil
}

func (e *Engine) tokenize(text string) ([]llama.Token, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed {
		return nil, ErrClosed
	}
	if text == "" {
		return nil, nil
	}
	return llama.Tokenize(e.vocab, text, true, true), nil
}

// piece renders one generated token as bytes (special tokens render empty).
// Only the scheduler goroutine calls it, while the engine is open.
func (e *Engine) piece(tok llama.Token, buf []byte) []byte {
	n := llama.TokenToPiece(e.vocab, tok, buf[:cap(buf)], 0, false)
	if n < 0 {
		buf = make([]byte, -n)
		n = llama.TokenToPiece(e.vocab, tok, buf, 0, false)
	}
	return buf[:max(n, 0)]
}

// Close stops the scheduler, fails pending requests with ErrClosed and frees
// the model. It is safe to call more than once.
func (e *Engine) Close() error {
	e.closeOnce.Do(func() {
		e.sched.stop()
		e.mu.Lock()
		defer e.mu.Unlock()
		e.closed = true
		_ = llama.ModelFree(e.model)
		e.log.Info("llama.cpp engine closed")
	})
	return nil
}
