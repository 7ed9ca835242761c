// Package correct rewrites LLM answers with a small correction model.
//
// Two methods are implemented: Aligner (arXiv 2402.02416), which rewrites a
// finished answer in one pass (Corrector.Align), and Stream Aligner (arXiv
// 2501.05336), which corrects an answer sentence by sentence while it
// streams, either following a freely generating upstream (Corrector.Follow)
// or guiding it one sentence at a time (Corrector.Guide).
//
// The correction model sits behind the small Model interface, expressed in
// this package's own Params, Result and error kinds (ErrBusy, ErrTooLong):
// it is satisfied by Remote, a client for any OpenAI-compatible
// /v1/completions server, and by the in-process llama.cpp engine through the
// adapter in package llamacorrect.
//
// Failure never loses the answer: every correction runs under a latency
// budget, and on timeout, backend error, an oversized prompt or a full queue
// the caller gets the original text with a fallback reason (fail-open) or a
// *FallbackError carrying that reason (fail-closed). A cancelled parent
// context is not a fallback: it cancels the backend and returns ctx.Err().
//
// correct owns the correction methods, their prompts, the sentence
// splitter and the remote backend. It must not import llamacpp (the
// adapter does), proxy, config or Gin, and it maps no failure to an HTTP
// status: that is the proxy's job.
package correct
