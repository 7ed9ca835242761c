package correct

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"sync"
	"time"
)

// job is one correction, resolved.
type job struct {
	model      Model
	modelID    string
	tmpl       Template
	mode       string // ModeAligner or ModeStream; part of the cache key
	vars       promptVars
	original   string // the text handed back on fallback
	params     Params
	maxCap     int // caps MaxTokens when > 0
	answerCap  int // the client's cap on the corrected text when > 0 (result.cut)
	budget     time.Duration
	failClosed bool
	cache      Cache // nil: no caching
	bypass     bool  // a cache exists but this job bypasses it
	route      string
	onToken    func(string) error
}

// result is what run produced.
type result struct {
	text      string // the correction, or the original on fallback
	fallback  string
	cache     string
	partial   bool
	cut       bool // answerCap stopped the generation
	tokensIn  int
	tokensOut int
	drafted   int
	accepted  int
	err       error // fatal: parent ctx, onToken, or fail-closed *FallbackError
}

// outcome converts r into an Outcome for the original text. Whitespace
// around the original, which cleaning removes, does not count as a change.
func (r result) outcome(original string) Outcome {
	return Outcome{
		Text: r.text, Corrected: r.fallback == "" && r.text != strings.TrimSpace(original), Fallback: r.fallback, Partial: r.partial,
		Cache: r.cache, TokensIn: r.tokensIn, TokensOut: r.tokensOut, Drafted: r.drafted, Accepted: r.accepted,
		Cut: r.cut,
	}
}

// Estimated bytes per token when the model cannot count tokens.
const bytesPerToken = 3

// countTokens counts text's tokens with the model when it can, else
// estimates len(bytes)/3.
func countTokens(m Model, text string) int {
	if tc, ok := m.(TokenCounter); ok {
		if n, err := tc.CountTokens(text); err == nil {
			return n
		}
	}
	return (len(text) + bytesPerToken - 1) / bytesPerToken
}

// maxTokens bounds a correction of original by its length (2 x its tokens
// + 128), by cap, and by the model context: when prompt + max tokens exceed
// the context, max tokens shrink to the room left, down to 1.25 x the
// original + 16; below that the prompt is too long (ErrTooLong).
func maxTokens(m Model, prompt, original string, capTokens int) (int, error) {
	n := countTokens(m, original)
	limit := 2*n + 128
	if capTokens > 0 && capTokens < limit {
		limit = capTokens
	}
	tc, ok := m.(TokenCounter)
	if !ok || tc.ContextSize() <= 0 {
		return limit, nil
	}
	room := tc.ContextSize() - countTokens(m, prompt)
	if room >= limit {
		return limit, nil
	}
	if floor := n + n/4 + 16; room < floor || room <= 0 {
		return 0, fmt.Errorf("%w: %d tokens of room, need %d", ErrTooLong, room, floor)
	}
	return room, nil
}

// run performs one correction with budget, cache and fallback handling.
func (c *Corrector) run(ctx context.Context, j job) result {
	res := result{text: j.original}
	if j.bypass {
		res.cache = "bypass"
	}
	prompt, err := j.tmpl.prompt(j.model, j.vars)
	if err != nil {
		return c.fallback(ctx, j, res, context.Background(), err)
	}
	n, err := maxTokens(j.model, prompt, j.original, j.capTokens())
	if err != nil {
		return c.fallback(ctx, j, res, context.Background(), err)
	}
	j.params.MaxTokens = n
	clientBound := j.answerCap > 0 && n == j.answerCap
	if clientBound && j.cache != nil {
		// Whether the cap cut the text is known only to the generation
		// (its finish reason), and the cache keeps text alone: a correction
		// the client's cap bounds is neither served from nor stored in it.
		j.cache, res.cache = nil, "bypass"
	}
	j.params.Reference = j.original
	bctx, cancel := context.WithTimeout(ctx, j.budget)
	defer cancel()

	g := &generation{model: j.model, prompt: prompt, params: j.params, sc: streamCleaner{out: j.onToken}}
	var text string
	if j.cache == nil {
		text, err = g.compute(bctx)
	} else {
		key := j.cacheKey()
		text, res.cache, err = j.cache.Do(bctx, key, j.modelID, g.compute)
		if err != nil && !g.started() && ctx.Err() == nil && bctx.Err() == nil {
			c.log.Warn("correction cache failed, computing without it", "err", err)
			res.cache = "error"
			text, err = g.compute(bctx)
		}
	}
	ran := g.detach(&res)
	if err == nil {
		if err = g.sc.finish(text, ran); err == nil {
			res.text = text
			res.cut = clientBound && g.hitCap()
			return res
		}
	}
	res.partial = g.sc.emitted > 0
	if g.sc.outErr != nil {
		res.err = g.sc.outErr
		return res
	}
	return c.fallback(ctx, j, res, bctx, err)
}

// generation is one model call. A cache may run compute on its own
// goroutine and keep it going for other waiters after run returned, so its
// state is guarded, and once detached it no longer reaches onToken.
type generation struct {
	model  Model
	prompt string
	params Params

	mu        sync.Mutex
	detached  bool
	ran       bool
	tokensIn  int
	tokensOut int
	drafted   int
	accepted  int
	finish    string // the model's finish reason
	sc        streamCleaner
}

// compute generates and cleans the correction; it is the cache's compute
// function.
func (g *generation) compute(ctx context.Context) (string, error) {
	g.mu.Lock()
	g.ran = true
	g.mu.Unlock()
	r, err := g.model.Generate(ctx, g.prompt, g.params, g.piece)
	g.mu.Lock()
	g.tokensIn += r.PromptTokens
	g.tokensOut += r.CompletionTokens
	g.drafted += r.Drafted
	g.accepted += r.Accepted
	g.finish = r.FinishReason
	g.mu.Unlock()
	if err != nil {
		return "", err
	}
	if text := clean(r.Text); text != "" {
		return text, nil
	}
	return "", fmt.Errorf("%w (raw %q)", ErrEmpty, r.Text)
}

// piece forwards a generated piece unless run has returned.
func (g *generation) piece(p string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.detached {
		return nil
	}
	return g.sc.piece(p)
}

// started reports whether compute was called.
func (g *generation) started() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.ran
}

// detach stops forwarding pieces, adds the token counts to res and reports
// whether compute ran for this call.
func (g *generation) detach(res *result) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.detached = true
	res.tokensIn += g.tokensIn
	res.tokensOut += g.tokensOut
	res.drafted += g.drafted
	res.accepted += g.accepted
	return g.ran
}

// fallback turns a failed correction into a fail-open result (the original
// text) or a fail-closed *FallbackError; a cancelled parent ctx is returned
// as is.
func (c *Corrector) fallback(ctx context.Context, j job, res result, budget context.Context, err error) result {
	res.text = j.original
	if ctx.Err() != nil {
		res.err = context.Cause(ctx)
		return res
	}
	res.fallback = fallbackReason(budget, err)
	c.log.Debug("correction fell back", "reason", res.fallback, "mode", j.mode, "model", j.modelID, "err", err)
	if j.failClosed {
		res.err = &FallbackError{Reason: res.fallback, Err: err}
	}
	return res
}

// streamCleaner forwards generated pieces to out, cleaned as clean would:
// leading whitespace dropped, and anything that may yet become trailing
// whitespace or an end marker held back.
type streamCleaner struct {
	out     func(string) error
	raw     strings.Builder
	emitted int   // bytes of the cleaned text given to out
	outErr  error // the error out returned, if any
}

// piece receives one generated piece.
func (s *streamCleaner) piece(p string) error {
	if s.out == nil {
		return nil
	}
	s.raw.WriteString(p)
	text := strings.TrimLeftFunc(s.raw.String(), isSpace)
	safe := len(text) - pendingEnd(text)
	if safe <= s.emitted {
		return nil
	}
	return s.send(text[s.emitted:safe])
}

// send gives text to out, recording its error.
func (s *streamCleaner) send(text string) error {
	if err := s.out(text); err != nil {
		s.outErr = err
		return err
	}
	s.emitted += len(text)
	return nil
}

// finish gives out the rest of final, all of it when the pieces were not
// generated by this call (cache hit).
func (s *streamCleaner) finish(final string, ran bool) error {
	if s.out == nil {
		return nil
	}
	if !ran {
		s.emitted = 0
		for _, w := range wordPieces(final) {
			if err := s.send(w); err != nil {
				return err
			}
		}
		return nil
	}
	if s.emitted > len(final) {
		return errors.New("correct: emitted pieces are not a prefix of the correction")
	}
	if s.emitted == len(final) {
		return nil
	}
	return s.send(final[s.emitted:])
}

// wordPieces splits s into words, each keeping its leading whitespace, so a
// cached correction replays like a generation.
func wordPieces(s string) []string {
	var out []string
	start := 0
	inWord := false
	for i, r := range s {
		if isSpace(r) {
			if inWord {
				out = append(out, s[start:i])
				start = i
				inWord = false
			}
			continue
		}
		inWord = true
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

// cacheKey returns the sha256 hex of the length-prefixed fields that decide
// a correction.
func cacheKey(modelID string, t Template, p Params, mode string, v promptVars) string {
	h := sha256.New()
	fields := []string{
		"aligngate-correct-v1", modelID, t.Name, t.Text, t.Chat, strconv.Itoa(len(p.Stop)),
	}
	fields = append(fields, p.Stop...)
	fields = append(fields,
		strconv.Itoa(p.MaxTokens), ftoa(p.Temperature), strconv.Itoa(p.TopK), ftoa(p.TopP), ftoa(p.MinP),
		ftoa(p.RepeatPenalty), ftoa(p.FrequencyPenalty), strconv.FormatUint(uint64(p.Seed), 10),
		mode, v.Question, v.Answer, v.Prefix, v.Sentence,
	)
	if t.System != "" {
		// Only when set, so that keys of templates without one are unchanged.
		fields = append(fields, "system", t.System)
	}
	for _, f := range fields {
		writeField(h, f)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// cacheKey is the job's cache key. The route is hashed in only when set,
// so that keys of requests that name none are unchanged.
func (j *job) cacheKey() string {
	key := cacheKey(j.modelID, j.tmpl, j.params, j.mode, j.vars)
	if j.route == "" {
		return key
	}
	h := sha256.New()
	for _, f := range []string{"aligngate-route-v1", j.route, key} {
		writeField(h, f)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// writeField writes f to h preceded by its length.
func writeField(h hash.Hash, f string) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(f)))
	h.Write(n[:])
	h.Write([]byte(f))
}

// ftoa formats a float32 exactly.
func ftoa(f float32) string { return strconv.FormatFloat(float64(f), 'g', -1, 32) }
