package wire

import "encoding/json"

// Chunk is a chat.completion.chunk as aligngate reads it.
type Chunk struct {
	ID                string          `json:"id"`
	Created           int64           `json:"created"`
	Model             string          `json:"model"`
	SystemFingerprint *string         `json:"system_fingerprint,omitempty"`
	Choices           []ChunkChoice   `json:"choices"`
	Usage             json.RawMessage `json:"usage"`
}

// Head is the chunk's id, created, model and fingerprint, without choices.
func (c *Chunk) Head() Chunk {
	return Chunk{ID: c.ID, Created: c.Created, Model: c.Model, SystemFingerprint: c.SystemFingerprint}
}

// HasUsage reports whether the chunk carries a usage member.
func (c *Chunk) HasUsage() bool { return len(c.Usage) > 0 && string(c.Usage) != "null" }

// ChunkChoice is one choice of a read chunk.
type ChunkChoice struct {
	Index int `json:"index"`
	Delta struct {
		Content      *string         `json:"content"`
		Refusal      *string         `json:"refusal"`
		ToolCalls    json.RawMessage `json:"tool_calls"`
		FunctionCall json.RawMessage `json:"function_call"`
	} `json:"delta"`
	FinishReason *string `json:"finish_reason"`
}

// Opaque reports whether the delta carries something never corrected: a
// refusal, tool calls or a function call.
func (c *ChunkChoice) Opaque() bool {
	d := &c.Delta
	return d.Refusal != nil || (len(d.ToolCalls) > 0 && string(d.ToolCalls) != "null") ||
		(len(d.FunctionCall) > 0 && string(d.FunctionCall) != "null")
}

// CallsTools reports whether the delta carries tool calls or a function
// call.
func (c *ChunkChoice) CallsTools() bool {
	d := &c.Delta
	return (len(d.ToolCalls) > 0 && string(d.ToolCalls) != "null") ||
		(len(d.FunctionCall) > 0 && string(d.FunctionCall) != "null")
}

// OutChunk is a chat.completion.chunk aligngate writes.
type OutChunk struct {
	ID                string      `json:"id"`
	Object            string      `json:"object"`
	Created           int64       `json:"created"`
	Model             string      `json:"model"`
	SystemFingerprint *string     `json:"system_fingerprint,omitempty"`
	Choices           []OutChoice `json:"choices"`
}

// OutChoice is the one choice of a written chunk. The choice's last chunk
// carries the report, in the same place as a whole answer's choice.
type OutChoice struct {
	Index        int      `json:"index"`
	Delta        OutDelta `json:"delta"`
	FinishReason *string  `json:"finish_reason"`
	Aligngate    *Report  `json:"aligngate,omitempty"`
}

// OutDelta is the delta of a written chunk.
type OutDelta struct {
	Role    string  `json:"role,omitempty"`
	Content *string `json:"content,omitempty"`
}

// Completion is the chat.completion aligngate writes when it made the
// answer itself (guide on a non-stream request).
type Completion struct {
	ID                string             `json:"id"`
	Object            string             `json:"object"`
	Created           int64              `json:"created"`
	Model             string             `json:"model"`
	SystemFingerprint *string            `json:"system_fingerprint,omitempty"`
	Choices           []CompletionChoice `json:"choices"`
}

// CompletionChoice is one choice of a written chat.completion.
type CompletionChoice struct {
	Index        int       `json:"index"`
	Message      Message   `json:"message"`
	Logprobs     *struct{} `json:"logprobs"`
	FinishReason string    `json:"finish_reason"`
	Aligngate    *Report   `json:"aligngate,omitempty"`
}

// Report is the "aligngate" extension member of a choice: on each choice of
// a whole answer, on the choice of each choice's final chunk in a stream.
// OpenAI clients ignore unknown members.
type Report struct {
	Mode         string `json:"mode"`
	Corrected    bool   `json:"corrected"`
	CorrectionMs int64  `json:"correction_ms"`
	Fallback     string `json:"fallback,omitempty"`
	Cache        string `json:"cache,omitempty"`
	// Skipped says why the answer was never handed to the corrector, as
	// X-Aligngate-Skipped does where headers could still say it.
	Skipped  string  `json:"skipped,omitempty"`
	Original *string `json:"original,omitempty"`
	// Drafted and Accepted count the engine's reference-drafted tokens
	// (speculative decoding); absent when nothing was drafted.
	Drafted  int `json:"drafted,omitempty"`
	Accepted int `json:"accepted,omitempty"`
	// Usage counts the correction model's own tokens; the answer's usage
	// member stays the upstream's, which is what the client pays for.
	// Absent when no model ran (cache hit, skipped).
	Usage *ReportUsage `json:"usage,omitempty"`
}

// ReportUsage is the token count of a correction, over every generation
// it made (every sentence in stream mode).
type ReportUsage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
}

// TextCompletionRequest is the body of a /v1/completions request, as the
// remote correction backend sends it. Non-standard sampling fields are
// sent only when set.
type TextCompletionRequest struct {
	Model            string   `json:"model"`
	Prompt           string   `json:"prompt"`
	MaxTokens        int      `json:"max_tokens"`
	Temperature      float32  `json:"temperature"`
	TopP             float32  `json:"top_p,omitempty"`
	TopK             int      `json:"top_k,omitempty"`
	MinP             float32  `json:"min_p,omitempty"`
	RepeatPenalty    float32  `json:"repeat_penalty,omitempty"`
	RepetitionPen    float32  `json:"repetition_penalty,omitempty"`
	FrequencyPenalty float32  `json:"frequency_penalty,omitempty"`
	Seed             *uint32  `json:"seed,omitempty"`
	Stop             []string `json:"stop,omitempty"`
	Stream           bool     `json:"stream"`
}

// TextCompletionChunk is one streamed /v1/completions event.
type TextCompletionChunk struct {
	Choices []struct {
		Text         string  `json:"text"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Usage *struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
	} `json:"usage"`
	Error json.RawMessage `json:"error"`
}
