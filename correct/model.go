package correct

import (
	"context"
)

// Params are the sampling settings of one generation, in the corrector's
// own terms; an adapter translates them for each backend.
type Params struct {
	MaxTokens        int      // tokens to generate at most; must be > 0
	Stop             []string // generation ends before any of these strings
	Temperature      float32  // 0 = greedy
	TopK             int      // 0 = disabled
	TopP             float32  // 0 or 1 = disabled
	MinP             float32  // 0 = disabled
	RepeatPenalty    float32  // 0 or 1 = disabled
	FrequencyPenalty float32  // 0 = disabled
	Seed             uint32   // sampling seed when Temperature > 0
}

// Result is what one generation produced and what it cost.
type Result struct {
	Text             string // generated text, stop string excluded
	PromptTokens     int    // tokens in the prompt
	ReusedTokens     int    // prompt tokens served from a KV cache (prefix reuse)
	EvaluatedTokens  int    // prompt tokens actually decoded
	CompletionTokens int    // tokens generated
	FinishReason     string // "stop" or "length"
}

// Model generates a completion of prompt. onToken, when not nil, receives
// each generated piece as soon as it is produced; if it returns an error the
// generation stops and Generate returns that error (possibly wrapped).
// Cancelling ctx must stop the generation. A backend reports saturation
// with an error wrapping ErrBusy and an oversized prompt with one wrapping
// ErrTooLong.
type Model interface {
	Generate(ctx context.Context, prompt string, p Params, onToken func(piece string) error) (Result, error)
}

// TokenCounter is an optional ability of a Model: counting tokens exactly and
// reporting the context window, so that max tokens can be bounded and
// oversized prompts refused before generating.
type TokenCounter interface {
	CountTokens(text string) (int, error)
	ContextSize() int
}

// Identifier is an optional ability of a Model: a stable identity used in
// cache keys (file name and hash for a local model, model name and base URL
// for a remote one). Without it the backend name is used.
type Identifier interface {
	ModelID() string
}

// Cache stores corrections. Do returns the cached text for key, or runs
// compute, stores its result and returns it. The second result is the cache
// outcome: "hit", "miss", "bypass" or "error". model labels metrics. The
// cache package satisfies this interface.
type Cache interface {
	Do(ctx context.Context, key, model string, compute func(context.Context) (string, error)) (string, string, error)
}

// Upstream is the answering LLM as driven by Guide mode; the proxy implements
// it. Next makes one upstream call that continues the assistant answer after
// prefix (the corrected text so far) and stops at the end of the next
// sentence. done reports whether the upstream ended its answer.
type Upstream interface {
	Next(ctx context.Context, prefix string) (text string, done bool, err error)
}

// Turn is one chat message with its text content already extracted (non-text
// parts dropped by the caller).
type Turn struct {
	Role string // "system", "developer", "user", "assistant" or "tool"
	Text string
}
