package llamacpp

import "errors"

// Errors callers branch on. Returned errors wrap them with details.
var (
	// ErrQueueFull: Parallel requests run and QueueSize wait already.
	ErrQueueFull = errors.New("llamacpp: request queue full")
	// ErrPromptTooLong: the prompt leaves no room in the context.
	ErrPromptTooLong = errors.New("llamacpp: prompt too long for the context")
	// ErrEmptyPrompt: the prompt has no text.
	ErrEmptyPrompt = errors.New("llamacpp: empty prompt")
	// ErrInvalidParams: a generation parameter is out of range.
	ErrInvalidParams = errors.New("llamacpp: invalid generation parameters")
	// ErrClosed: the engine is closed.
	ErrClosed = errors.New("llamacpp: engine closed")
	// ErrLibrary: the llama.cpp libraries are missing or of the wrong version.
	ErrLibrary = errors.New("llamacpp: llama.cpp library unavailable (install it with scripts/install-llama.sh)")
	// ErrModel: the model file is missing, truncated or not a usable GGUF model.
	ErrModel = errors.New("llamacpp: bad model file")
	// ErrDecode: llama.cpp failed to evaluate a batch.
	ErrDecode = errors.New("llamacpp: decode failed")
)
