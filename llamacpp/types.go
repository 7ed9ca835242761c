package llamacpp

// Params controls one generation. The zero value of a sampling field means
// "use the default"; Temperature 0 means greedy decoding.
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
	ReusedTokens     int    // prompt tokens served from the KV cache (prefix reuse)
	EvaluatedTokens  int    // prompt tokens actually decoded
	CompletionTokens int    // tokens generated
	FinishReason     string // "stop" or "length"
}
