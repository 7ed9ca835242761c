package correct

import (
	"context"

	"github.com/aligngate/aligngate/llamacpp"
)

// Model generates a completion of prompt. onToken, when not nil, receives
// each generated piece as soon as it is produced; if it returns an error the
// generation stops and Generate returns that error (possibly wrapped).
// Cancelling ctx must stop the generation.
type Model interface {
	Generate(ctx context.Context, prompt string, p llamacpp.Params, onToken func(piece string) error) (llamacpp.Result, error)
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
