package llamacpp

import (
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/hybridgroup/yzma/pkg/llama"
)

// slot is one llama.cpp sequence. cache mirrors the tokens whose KV entries
// the sequence holds at positions 0..len(cache)-1; they outlive requests so
// a later prompt can reuse them.
type slot struct {
	id    llama.SeqId
	cache []llama.Token

	req     *request
	pending []llama.Token // prompt tokens still to evaluate
	next    llama.Token   // sampled token to feed at the next step
	sampler llama.Sampler
	out     *textOut
	nGen    int
	logit   int32 // batch index whose logits this slot samples, -1 if none

	gen   []llama.Token // tokens generated, next included (drafts align with it)
	draft []llama.Token // reference tokens evaluated after next this step
}

// scheduler owns the llama.cpp context: only its goroutine touches it.
type scheduler struct {
	e      *Engine
	lctx   llama.Context
	mem    llama.Memory
	batch  llama.Batch
	slots  []*slot
	queue  []*request // admitted, waiting for a free slot (FIFO)
	piece  []byte
	submit chan *request
	quit   chan struct{}
	done   chan struct{}
	busy   atomic.Int64
	drafts draftCounters
	// afterVerify, when set (by tests, before the first request), sees
	// every verification; it runs on the scheduler goroutine.
	afterVerify func(verifyEvent)
}

func newScheduler(e *Engine, lctx llama.Context) (*scheduler, error) {
	mem, err := llama.GetMemory(lctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrModel, err)
	}
	s := &scheduler{
		e: e, lctx: lctx, mem: mem,
		batch:  llama.BatchInit(int32(e.cfg.BatchSize), 0, 1),
		piece:  make([]byte, 0, 256),
		submit: make(chan *request, e.cfg.Parallel+e.cfg.QueueSize),
		quit:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	for i := range e.cfg.Parallel {
		s.slots = append(s.slots, &slot{id: llama.SeqId(i), logit: -1})
	}
	return s, nil
}

// stop ends run and waits for it; run frees the context on its way out.
func (s *scheduler) stop() {
	close(s.quit)
	<-s.done
}

// run is the scheduling loop: take requests, drop cancelled ones, give
// waiting ones a slot, then advance every active sequence with one decode.
func (s *scheduler) run() {
	defer close(s.done)
	defer s.shutdown()
	for {
		if !s.intake() {
			return
		}
		s.reap()
		s.assign()
		if s.busy.Load() == 0 {
			continue
		}
		if err := s.step(); err != nil {
			s.e.log.Error("decode failed", "err", err)
			s.failActive(err)
		}
	}
}

// intake receives submitted requests, blocking only when idle. It reports
// false when the engine is closing.
func (s *scheduler) intake() bool {
	if s.busy.Load() == 0 && len(s.queue) == 0 {
		select {
		case req := <-s.submit:
			s.queue = append(s.queue, req)
		case <-s.quit:
			return false
		}
	}
	for {
		select {
		case req := <-s.submit:
			s.queue = append(s.queue, req)
		case <-s.quit:
			return false
		default:
			return true
		}
	}
}

// reap ends requests whose context is done or whose callback failed.
func (s *scheduler) reap() {
	for _, sl := range s.slots {
		if sl.req != nil {
			if err := sl.req.stopped(); err != nil {
				s.finish(sl, err)
			}
		}
	}
	kept := s.queue[:0]
	for _, req := range s.queue {
		if err := req.stopped(); err != nil {
			s.complete(req, err)
			continue
		}
		kept = append(kept, req)
	}
	clear(s.queue[len(kept):])
	s.queue = kept
}

// assign gives waiting requests, oldest first, the free slot whose cache
// shares the longest prefix with their prompt.
func (s *scheduler) assign() {
	for len(s.queue) > 0 {
		sl, lcp := s.bestSlot(s.queue[0].tokens)
		if sl == nil {
			return
		}
		req := s.queue[0]
		s.queue[0] = nil
		s.queue = s.queue[1:]
		s.start(sl, req, lcp)
	}
}

// minReuse is the shortest shared prefix worth choosing a slot for: fewer
// tokens (a BOS, a word) would evict a useful cache for nothing.
const minReuse = 4

// bestSlot returns the free slot whose cache shares the longest prefix with
// prompt and that length; without a worthwhile match, the free slot caching
// least, so longer caches stay for later reuse.
func (s *scheduler) bestSlot(prompt []llama.Token) (*slot, int) {
	var best *slot
	bestLCP := -1
	for _, sl := range s.slots {
		if sl.req != nil {
			continue
		}
		n := commonPrefix(sl.cache, prompt)
		if n < minReuse {
			n = 0
		}
		if n > bestLCP || (n == bestLCP && len(sl.cache) < len(best.cache)) {
			best, bestLCP = sl, n
		}
	}
	if best != nil && bestLCP == 0 {
		bestLCP = commonPrefix(best.cache, prompt)
	}
	return best, bestLCP
}

func commonPrefix(a, b []llama.Token) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// start binds req to sl, trimming the cached tokens past the shared prefix.
func (s *scheduler) start(sl *slot, req *request, lcp int) {
	// The last prompt token is always evaluated: its logits give the first
	// generated token.
	lcp = min(lcp, len(req.tokens)-1)
	if lcp < len(sl.cache) {
		if ok, _ := llama.MemorySeqRm(s.mem, sl.id, llama.Pos(lcp), -1); !ok {
			_, _ = llama.MemorySeqRm(s.mem, sl.id, -1, -1)
			lcp = 0
		}
		sl.cache = sl.cache[:lcp]
	}
	sl.req = req
	sl.pending = req.tokens[lcp:]
	sl.sampler = newSampler(req.params)
	sl.out = newTextOut(req.params.Stop)
	sl.nGen = 0
	sl.gen = sl.gen[:0]
	req.res = Result{PromptTokens: len(req.tokens), ReusedTokens: lcp, EvaluatedTokens: len(sl.pending)}
	s.busy.Add(1)
}

// step builds one batch, decodes it and verifies. A sequence still reading
// its prompt gets a step of its own (one chunk of its prompt, nothing
// else); otherwise the batch holds the next token of each generating
// sequence and its draft. Keeping prompts out of shared batches makes a
// sequence's cache, and so a greedy correction, the same bytes whether it
// ran alone or beside others: llama.cpp's CPU kernels are not invariant to
// how a batch is composed.
func (s *scheduler) step() error {
	_ = s.batch.Clear()
	budget := s.e.cfg.BatchSize
	for _, sl := range s.slots {
		sl.logit = -1
	}
	for _, sl := range s.slots {
		if sl.req != nil && len(sl.pending) > 0 {
			if err := s.addPrompt(sl, budget); err != nil {
				return err
			}
			return s.decode()
		}
	}
	generating := 0
	for _, sl := range s.slots {
		if sl.req != nil {
			generating++
		}
	}
	for _, sl := range s.slots {
		if sl.req == nil {
			continue
		}
		generating--
		// Every other generating sequence keeps room for its token.
		n, err := s.addNext(sl, budget-generating)
		if err != nil {
			return err
		}
		budget -= n
	}
	return s.decode()
}

// decode runs the batch and verifies what each sequence sampled.
func (s *scheduler) decode() error {
	if ret, err := llama.Decode(s.lctx, s.batch); err != nil || ret != 0 {
		return fmt.Errorf("%w: llama_decode returned %d: %w", ErrDecode, ret, err)
	}
	for _, sl := range s.slots {
		if sl.req != nil && sl.logit >= 0 {
			if err := s.verify(sl); err != nil {
				return err
			}
		}
	}
	return nil
}

// addPrompt adds the next chunk of sl's prompt, up to budget tokens. The
// last prompt token goes alone in a later step, as it does when the rest
// of the prompt is reused from the cache, so its logits (and a greedy
// correction) do not depend on how much of the prompt was cached.
func (s *scheduler) addPrompt(sl *slot, budget int) error {
	n := min(len(sl.pending), budget)
	if n == len(sl.pending) && n > 1 {
		n--
	}
	last := n == len(sl.pending)
	for i, tok := range sl.pending[:n] {
		logits := last && i == n-1
		if logits {
			sl.logit = s.batch.NTokens
		}
		if err := s.add(sl, tok, logits); err != nil {
			return err
		}
	}
	sl.pending = sl.pending[n:]
	return nil
}

// add appends tok at the sequence's next position.
func (s *scheduler) add(sl *slot, tok llama.Token, logits bool) error {
	if err := s.batch.Add(tok, llama.Pos(len(sl.cache)), []llama.SeqId{sl.id}, logits); err != nil {
		return fmt.Errorf("%w: %w", ErrDecode, err)
	}
	sl.cache = append(sl.cache, tok)
	return nil
}

func (s *scheduler) finishOK(sl *slot, reason string) {
	sl.req.push(sl.out.flush())
	sl.req.res.Text = sl.out.String()
	sl.req.res.FinishReason = reason
	s.finish(sl, nil)
}

// finish releases the slot (its cache stays for reuse) and completes the
// request.
func (s *scheduler) finish(sl *slot, err error) {
	req := sl.req
	req.res.CompletionTokens = sl.nGen
	if err != nil {
		req.res.Text = sl.out.String()
	}
	llama.SamplerFree(sl.sampler)
	sl.req, sl.sampler, sl.out, sl.pending, sl.draft = nil, 0, nil, nil, nil
	s.busy.Add(-1)
	s.complete(req, err)
}

// complete publishes the outcome; Generate is waiting on finished.
func (s *scheduler) complete(req *request, err error) {
	if errors.Is(err, errAborted) {
		err = nil // Generate returns the callback's own error
	}
	req.err = err
	s.e.inflight.Add(-1)
	close(req.finished)
}

// failActive ends every running request after a failed decode and drops
// the affected caches, whose KV state is now unknown.
func (s *scheduler) failActive(err error) {
	for _, sl := range s.slots {
		if sl.req == nil {
			continue
		}
		_, _ = llama.MemorySeqRm(s.mem, sl.id, -1, -1)
		sl.cache = sl.cache[:0]
		s.finish(sl, err)
	}
}

// shutdown fails everything still pending with ErrClosed and frees the
// batch and the context.
func (s *scheduler) shutdown() {
	for _, sl := range s.slots {
		if sl.req != nil {
			s.finish(sl, ErrClosed)
		}
	}
	for _, req := range s.queue {
		s.complete(req, ErrClosed)
	}
	s.queue = nil
	for {
		select {
		case req := <-s.submit:
			s.complete(req, ErrClosed)
		default:
			_ = llama.BatchFree(s.batch)
			_ = llama.Free(s.lctx)
			return
		}
	}
}
