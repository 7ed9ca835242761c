package llamacpp

import (
	"fmt"
	"runtime"
)

// Config configures the engine; it is the `llamacpp:` section of the
// configuration file.
type Config struct {
	// ModelPath is the GGUF model file. Empty means no local engine.
	ModelPath string `yaml:"model_path"`
	// LibDir holds libllama.so and libggml*.so. Default ".llama/lib"; cmd
	// passes YZMA_LIB when that is set.
	LibDir string `yaml:"lib_dir"`
	// GPULayers is the number of layers offloaded to the GPU (n_gpu_layers);
	// -1 or a large number offloads all. Default 0 (CPU only).
	GPULayers int `yaml:"gpu_layers"`
	// ContextSize is the context length of each sequence, in tokens: prompt
	// plus generated tokens must fit. Default 4096.
	ContextSize int `yaml:"context_size"`
	// Threads used for decoding. Default runtime.NumCPU()-1 (at least 1):
	// one core stays with the HTTP side, since llama.cpp's threads spin and
	// a decode waits for its slowest thread (on 2 cores, 2 threads ran
	// hundreds of times slower than 1 whenever the proxy was busy).
	Threads int `yaml:"threads"`
	// BatchSize is the most tokens one decode call evaluates. Default 512.
	BatchSize int `yaml:"batch_size"`
	// Parallel is the number of sequences decoded together. Default 4.
	Parallel int `yaml:"parallel"`
	// QueueSize is how many requests may wait beyond Parallel. Default 64.
	QueueSize int `yaml:"queue_size"`
	// Draft configures reference-drafted speculative decoding.
	Draft DraftConfig `yaml:"draft"`
}

// DraftConfig is the `llamacpp.draft:` section. With a reference in
// Params, the engine drafts the reference tokens that follow the output's
// aligned position and verifies them in the same decode step.
type DraftConfig struct {
	// Mode is "reference" (draft from Params.Reference) or "off". Default
	// "reference".
	Mode string `yaml:"mode"`
	// MaxTokens is the most tokens drafted for one sequence in one step.
	// Default 16.
	MaxTokens int `yaml:"max_tokens"`
}

// Draft modes.
const (
	DraftReference = "reference"
	DraftOff       = "off"
)

// Defaults applied by SetDefaults.
const (
	DefaultLibDir      = ".llama/lib"
	DefaultContextSize = 4096
	DefaultBatchSize   = 512
	DefaultParallel    = 4
	DefaultQueueSize   = 64
	DefaultDraftTokens = 16
)

// maxParallel is llama.cpp's LLAMA_MAX_SEQ.
const maxParallel = 256

// SetDefaults fills zero fields with their defaults.
func (c *Config) SetDefaults() {
	if c.LibDir == "" {
		c.LibDir = DefaultLibDir
	}
	if c.ContextSize == 0 {
		c.ContextSize = DefaultContextSize
	}
	if c.Threads == 0 {
		c.Threads = max(1, runtime.NumCPU()-1)
	}
	if c.BatchSize == 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.Parallel == 0 {
		c.Parallel = DefaultParallel
	}
	if c.QueueSize == 0 {
		c.QueueSize = DefaultQueueSize
	}
	if c.Draft.Mode == "" {
		c.Draft.Mode = DraftReference
	}
	if c.Draft.MaxTokens == 0 {
		c.Draft.MaxTokens = DefaultDraftTokens
	}
}

// Validate reports the first invalid field; call it after SetDefaults.
func (c Config) Validate() error {
	switch {
	case c.GPULayers < -1:
		return fmt.Errorf("llamacpp: gpu_layers %d must be >= -1", c.GPULayers)
	case c.ContextSize < 16:
		return fmt.Errorf("llamacpp: context_size %d must be >= 16", c.ContextSize)
	case c.Threads < 1:
		return fmt.Errorf("llamacpp: threads %d must be >= 1", c.Threads)
	case c.Parallel < 1 || c.Parallel > maxParallel:
		return fmt.Errorf("llamacpp: parallel %d must be in [1,%d]", c.Parallel, maxParallel)
	case c.BatchSize < c.Parallel:
		return fmt.Errorf("llamacpp: batch_size %d must be >= parallel %d", c.BatchSize, c.Parallel)
	case c.QueueSize < 0:
		return fmt.Errorf("llamacpp: queue_size %d must be >= 0", c.QueueSize)
	case c.Draft.Mode != DraftReference && c.Draft.Mode != DraftOff:
		return fmt.Errorf("llamacpp: draft.mode %q must be %q or %q", c.Draft.Mode, DraftReference, DraftOff)
	case c.Draft.MaxTokens < 1 || c.Draft.MaxTokens >= c.BatchSize:
		return fmt.Errorf("llamacpp: draft.max_tokens %d must be in [1,batch_size)", c.Draft.MaxTokens)
	}
	return nil
}
