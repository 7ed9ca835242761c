package llamacpp

import (
	"fmt"
	"strings"
	"sync"

	"github.com/hybridgroup/yzma/pkg/llama"
)

// Speculative decoding with reference drafts. A generating sequence with a
// reference adds, after its next token, the reference tokens expected to
// follow it, all with logits. Position i's logits are sampled only when
// every drafted token before it was sampled: each sampled token is the one
// plain decoding would produce at that point (same logits, same sampler
// state, same random draws), so the output does not change, greedy or not.
// The first sampled token that differs from the draft ends the step; the
// drafted tokens after it are removed from the KV cache.

// DraftStats counts drafting over the engine's life, for telemetry.
type DraftStats struct {
	Steps    int64 // decode steps in which a sequence verified a draft
	Drafted  int64 // reference tokens drafted
	Accepted int64 // drafted tokens the model agreed with
	// AcceptedPerStep[i] counts steps that accepted i drafted tokens,
	// i in 0..Config.Draft.MaxTokens.
	AcceptedPerStep []int64
}

// draftCounters is DraftStats shared between the scheduler (writer) and
// Stats (reader).
type draftCounters struct {
	mu sync.Mutex
	DraftStats
}

func (c *draftCounters) add(drafted, accepted int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.Steps++
	c.Drafted += int64(drafted)
	c.Accepted += int64(accepted)
	for len(c.AcceptedPerStep) <= accepted {
		c.AcceptedPerStep = append(c.AcceptedPerStep, 0)
	}
	c.AcceptedPerStep[accepted]++
}

func (c *draftCounters) snapshot() DraftStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.DraftStats
	s.AcceptedPerStep = append([]int64(nil), c.AcceptedPerStep...)
	return s
}

// verifyEvent describes one verification, for the scheduler's test hook.
type verifyEvent struct {
	Seq               int
	Drafted, Accepted int
	Want              int // cache length the accepted tokens imply
	CacheLen          int // the engine's accounting after trimming
	KVLen             int // llama.cpp's: the sequence's highest position + 1
}

// tokenizeRef tokenizes a reference for drafting: invalid UTF-8 becomes
// U+FFFD (the tokenizer must not see it), no BOS, special tokens as text.
// Tokens past the context size are dropped: no output can get there.
func (e *Engine) tokenizeRef(text string) ([]llama.Token, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed {
		return nil, ErrClosed
	}
	toks := llama.Tokenize(e.vocab, strings.ToValidUTF8(text, "\uFFFD"), false, false)
	return toks[:min(len(toks), e.cfg.ContextSize)], nil
}

// newDraft returns the request's drafter, nil when drafting is off or the
// reference is empty.
func (e *Engine) newDraft(p Params) (*refDraft, error) {
	if p.Reference == "" || e.cfg.Draft.Mode != DraftReference {
		return nil, nil
	}
	ref, err := e.tokenizeRef(p.Reference)
	if err != nil || len(ref) == 0 {
		return nil, err
	}
	return newRefDraft(ref, e.cfg.Draft.MaxTokens), nil
}

// addNext adds the slot's next token and its draft, at most room tokens in
// all, and returns how many it added.
func (s *scheduler) addNext(sl *slot, room int) (int, error) {
	sl.logit = s.batch.NTokens
	if err := s.add(sl, sl.next, true); err != nil {
		return 0, err
	}
	sl.draft = nil
	if ref := sl.req.ref; ref != nil {
		// Drafted tokens past MaxTokens or the context would be discarded.
		limit := min(room-1, sl.req.params.MaxTokens-sl.nGen-1, s.e.cfg.ContextSize-len(sl.cache))
		sl.draft = ref.propose(sl.gen, limit)
	}
	for _, tok := range sl.draft {
		if err := s.add(sl, tok, true); err != nil {
			return 0, err
		}
	}
	return 1 + len(sl.draft), nil
}

// verify samples the slot's positions in order while they confirm the
// draft, trims the rejected tail from the KV cache and accounts for it.
func (s *scheduler) verify(sl *slot) error {
	draft := sl.draft
	sl.draft = nil
	base := len(sl.cache) - len(draft) // cache length up to the sampled-from token
	i, reason := 0, ""
	for ; ; i++ {
		tok := llama.SamplerSample(sl.sampler, s.lctx, sl.logit+int32(i))
		reason = s.accept(sl, tok, base+i)
		if reason != "" || i == len(draft) || tok != draft[i] {
			break
		}
	}
	if err := s.trim(sl, base+i); err != nil {
		return err
	}
	s.account(sl, len(draft), i, base+i)
	if reason != "" {
		s.finishOK(sl, reason)
	}
	return nil
}

// accept takes one sampled token as output, cacheLen being the tokens in
// the KV cache before it. It returns the finish reason when the request
// ends here: an end-of-generation token, a stop string, MaxTokens or a
// full context.
func (s *scheduler) accept(sl *slot, tok llama.Token, cacheLen int) string {
	if llama.VocabIsEOG(s.e.vocab, tok) {
		return FinishStop
	}
	sl.nGen++
	emit, stopped := sl.out.add(s.e.piece(tok, s.piece))
	sl.req.push(emit)
	switch {
	case stopped:
		return FinishStop
	case sl.nGen >= sl.req.params.MaxTokens || cacheLen >= s.e.cfg.ContextSize:
		return FinishLength
	}
	sl.next = tok
	sl.gen = append(sl.gen, tok)
	return ""
}

// trim removes the sequence's KV entries from position keep on.
func (s *scheduler) trim(sl *slot, keep int) error {
	if keep >= len(sl.cache) {
		return nil
	}
	if ok, err := llama.MemorySeqRm(s.mem, sl.id, llama.Pos(keep), -1); !ok || err != nil {
		return fmt.Errorf("%w: removing rejected draft tokens of sequence %d: %v", ErrDecode, sl.id, err)
	}
	sl.cache = sl.cache[:keep]
	return nil
}

// account records a verification in the request's result, the engine's
// counters and the draft length.
func (s *scheduler) account(sl *slot, drafted, accepted, want int) {
	res := &sl.req.res
	res.DecodeSteps++
	if drafted == 0 {
		return
	}
	sl.req.ref.verified(drafted, accepted)
	res.Drafted += drafted
	res.Accepted += accepted
	for len(res.AcceptedPerStep) <= accepted {
		res.AcceptedPerStep = append(res.AcceptedPerStep, 0)
	}
	res.AcceptedPerStep[accepted]++
	s.drafts.add(drafted, accepted)
	if s.afterVerify != nil {
		pmax, _ := llama.MemorySeqPosMax(s.mem, sl.id)
		s.afterVerify(verifyEvent{Seq: int(sl.id), Drafted: drafted, Accepted: accepted,
			Want: want, CacheLen: len(sl.cache), KVLen: int(pmax) + 1})
	}
}
