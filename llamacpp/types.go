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
	// Reference is the text the output is expected to copy largely (the
	// answer being corrected). With Config.Draft.Mode "reference" the
	// engine drafts its tokens and verifies them in one batch; the output
	// is the same as without it. Empty means no drafting.
	Reference string
}

// Result is what one generation produced and what it cost.
type Result struct {
	Text             string // generated text, stop string excluded
	PromptTokens     int    // tokens in the prompt
	ReusedTokens     int    // prompt tokens served from the KV cache (prefix reuse)
	EvaluatedTokens  int    // prompt tokens actually decoded
	CompletionTokens int    // tokens generated
	FinishReason     string // "stop" or "length"
	DecodeSteps      int    // decode steps that sampled for this request
	Drafted          int    // reference tokens drafted and verified
	Accepted         int    // drafted tokens the model agreed with
	// AcceptedPerStep[i] counts this request's drafting steps that
	// accepted i tokens (0..Config.Draft.MaxTokens); nil without drafts.
	AcceptedPerStep []int
}
