package proxy

import (
	"encoding/json"
	"errors"
	"io"
	"sort"
	"strings"

	"github.com/aligngate/aligngate/correct"
	"github.com/aligngate/aligngate/wire"
)

// follower corrects the choices of one upstream stream sentence by sentence
// as they arrive (Stream Aligner, follow drive).
type follower struct {
	s        *Server
	in       *inbound
	j        *job
	em       *emitter
	sessions map[int]*correct.Session
	original map[int]*strings.Builder
	finish   map[int]*string
	opaque   map[int]bool
	usage    []byte
	headSet  bool
}

// followStream serves a streamed chat request in stream mode: each upstream
// sentence is corrected and sent as soon as it is complete.
func (s *Server) followStream(in *inbound, j *job) {
	ex, sse := s.startStream(in, j)
	if ex == nil {
		return
	}
	defer ex.Close()
	f := &follower{
		s: s, in: in, j: j, em: newEmitter(sse), sessions: map[int]*correct.Session{},
		original: map[int]*strings.Builder{}, finish: map[int]*string{}, opaque: map[int]bool{},
	}
	if err := f.pump(ex); err != nil {
		f.abort()
		s.streamFailed(sse, ex, err)
		return
	}
	ex.Close()
	sum, ok := f.close()
	if !ok {
		return
	}
	if f.usage != nil {
		_ = f.em.raw(f.usage)
	}
	_ = sse.Done()
	s.record(j, ex.ttfb.Milliseconds(), sum)
}

// pump reads the upstream stream to its end, feeding the sessions.
func (f *follower) pump(ex *exchange) error {
	r := wire.NewSSEReader(ex)
	for {
		data, err := r.Next()
		if errors.Is(err, wire.ErrDone) || errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		var ch wire.Chunk
		if json.Unmarshal(data, &ch) != nil {
			if err := f.em.raw(data); err != nil {
				return err
			}
			continue
		}
		if err := f.handle(&ch, data); err != nil {
			return err
		}
	}
}

func (f *follower) handle(ch *wire.Chunk, data []byte) error {
	if !f.headSet {
		// Set once, before any session exists to read it.
		f.em.head = wire.Chunk{ID: ch.ID, Created: ch.Created, Model: ch.Model, SystemFingerprint: ch.SystemFingerprint}
		f.headSet = true
	}
	if len(ch.Choices) == 0 {
		if len(ch.Usage) > 0 && string(ch.Usage) != "null" {
			f.usage = append([]byte(nil), data...)
		}
		return nil
	}
	for i := range ch.Choices {
		cc := &ch.Choices[i]
		if cc.FinishReason != nil {
			f.finish[cc.Index] = cc.FinishReason
		}
		if cc.Opaque() || f.opaque[cc.Index] {
			// Tool calls and refusals pass through as the upstream sent them.
			f.opaque[cc.Index] = true
			return f.em.raw(data)
		}
		if cc.Delta.Content != nil {
			if err := f.session(cc.Index).Write(*cc.Delta.Content); err != nil {
				return err
			}
			f.text(cc.Index).WriteString(*cc.Delta.Content)
		}
	}
	return nil
}

func (f *follower) text(i int) *strings.Builder {
	b, ok := f.original[i]
	if !ok {
		b = &strings.Builder{}
		f.original[i] = b
	}
	return b
}

func (f *follower) session(i int) *correct.Session {
	sess, ok := f.sessions[i]
	if !ok {
		r := correctionRequest(f.j.dec, f.j.question)
		r.AnswerTokens = f.j.req.AnswerCap()
		sess = f.s.corrector.Follow(f.in.ctx(), r, func(t string) error { return f.em.content(i, t) })
		f.sessions[i] = sess
	}
	return sess
}

// close waits for every choice's last correction and finishes the choices.
func (f *follower) close() (summary, bool) {
	var sum summary
	idx := make([]int, 0, len(f.sessions))
	for i := range f.sessions {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	ok := true
	for _, i := range idx {
		o, err := f.sessions[i].Close()
		original := f.text(i).String()
		if ok && !f.s.endChoice(f.in, f.j, f.em, i, f.finish[i], original, o, err) {
			ok = false
		}
		sum.add(o)
		f.j.answers = append(f.j.answers, answerPair{original, o.Text})
	}
	return sum, ok
}

// abort stops every session at once after a failure: no queued sentence
// is corrected or sent, so nothing follows the error event.
func (f *follower) abort() {
	for _, sess := range f.sessions {
		sess.Abort()
	}
}
