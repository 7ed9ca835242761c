package proxy

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sort"
	"sync"

	"github.com/aligngate/aligngate/correct"
	"github.com/aligngate/aligngate/wire"
)

// emitter writes corrected chunks for one response. Corrections of several
// choices may emit concurrently; the mutex keeps events whole and ordered.
type emitter struct {
	mu       sync.Mutex
	sse      *wire.SSEWriter
	head     wire.Chunk // id, created, model, fingerprint of the upstream's chunks
	roleSent map[int]bool
	wrote    map[int]bool // a choice got content
}

func newEmitter(sse *wire.SSEWriter) *emitter {
	return &emitter{sse: sse, roleSent: map[int]bool{}, wrote: map[int]bool{}}
}

func (e *emitter) chunk(ch wire.OutChoice, rep *wire.Report) error {
	if !e.roleSent[ch.Index] {
		ch.Delta.Role = "assistant"
		e.roleSent[ch.Index] = true
	}
	ch.Aligngate = rep
	return e.sse.JSON(wire.OutChunk{
		ID: e.head.ID, Object: "chat.completion.chunk", Created: e.head.Created, Model: e.head.Model,
		SystemFingerprint: e.head.SystemFingerprint, Choices: []wire.OutChoice{ch},
	})
}

// content emits corrected text for choice i.
func (e *emitter) content(i int, text string) error {
	if text == "" {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.wrote[i] = true
	return e.chunk(wire.OutChoice{Index: i, Delta: wire.OutDelta{Content: &text}}, nil)
}

// finish ends choice i with the upstream's finish reason and the report.
func (e *emitter) finish(i int, reason *string, rep *wire.Report) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if reason == nil {
		stop := "stop"
		reason = &stop
	}
	return e.chunk(wire.OutChoice{Index: i, FinishReason: reason}, rep)
}

// raw relays an upstream event as it was.
func (e *emitter) raw(data []byte) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.sse.Data(data)
}

func (e *emitter) wroteContent(i int) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.wrote[i]
}

// startStream calls the upstream for a streamed correction. It returns nil
// when it has already answered the client (an error, or a non-stream answer
// relayed as is).
func (s *Server) startStream(in *inbound, j *job) (*exchange, *wire.SSEWriter) {
	cl := s.callFor(in, j.up, j.body)
	cl.noGzip = true
	ex, err := s.do(in.ctx(), cl)
	if err != nil {
		s.fail(in, err)
		return nil, nil
	}
	if ex.resp.StatusCode != http.StatusOK || !isEventStream(ex.resp.Header) {
		s.relay(in.w, ex)
		ex.Close()
		return nil, nil
	}
	return ex, wire.StartSSE(in.w, http.StatusOK)
}

// collected is a whole upstream stream, kept for Aligner.
type collected struct {
	head    wire.Chunk
	events  [][]byte // every event, to replay an answer that is not corrected
	text    map[int]*[]byte
	finish  map[int]*string
	usage   []byte // the usage chunk, relayed last
	opaque  bool   // a choice carried tool calls or a refusal
	tools   bool   // a choice carried tool calls
	indexes []int

	onChoice func(head wire.Chunk, index int)
}

// collect reads the whole upstream stream. onChoice, when not nil, is
// called with the head when a choice index first appears.
func collect(ex *exchange, onChoice func(head wire.Chunk, index int)) (*collected, error) {
	col := &collected{text: map[int]*[]byte{}, finish: map[int]*string{}, onChoice: onChoice}
	r := wire.NewSSEReader(ex)
	for {
		data, err := r.Next()
		if errors.Is(err, wire.ErrDone) || errors.Is(err, io.EOF) {
			return col, nil
		}
		if err != nil {
			return col, err
		}
		ev := append([]byte(nil), data...)
		col.events = append(col.events, ev)
		var ch wire.Chunk
		if json.Unmarshal(ev, &ch) != nil {
			col.opaque = true
			continue
		}
		col.add(&ch, ev)
	}
}

func (col *collected) add(ch *wire.Chunk, ev []byte) {
	if col.head.ID == "" {
		col.head = wire.Chunk{ID: ch.ID, Created: ch.Created, Model: ch.Model, SystemFingerprint: ch.SystemFingerprint}
	}
	if len(ch.Choices) == 0 && len(ch.Usage) > 0 && string(ch.Usage) != "null" {
		col.usage = ev
	}
	for i := range ch.Choices {
		cc := &ch.Choices[i]
		if cc.Opaque() {
			col.opaque = true
			col.tools = col.tools || cc.CallsTools()
		}
		b, ok := col.text[cc.Index]
		if !ok {
			b = new([]byte)
			col.text[cc.Index] = b
			col.indexes = append(col.indexes, cc.Index)
			if col.onChoice != nil {
				col.onChoice(col.head, cc.Index)
			}
		}
		if cc.Delta.Content != nil {
			*b = append(*b, *cc.Delta.Content...)
		}
		if cc.FinishReason != nil {
			col.finish[cc.Index] = cc.FinishReason
		}
	}
}

// alignStream serves a streamed chat request in aligner mode: the upstream
// answer is read whole, then the correction streams to the client token by
// token as the model writes it.
func (s *Server) alignStream(in *inbound, j *job) {
	ex, sse := s.startStream(in, j)
	if ex == nil {
		return
	}
	defer ex.Close()
	em := newEmitter(sse)
	col, err := s.collectKeptAlive(ex, em)
	if err != nil {
		// What arrived is the user's answer so far: it is relayed
		// uncorrected, as off mode relays it, before the error.
		for _, ev := range col.events {
			if sse.Data(ev) != nil {
				return
			}
		}
		s.streamFailed(sse, ex, err)
		return
	}
	ex.Close()
	if col.opaque {
		replaySkipped(sse, col.events, j.dec.Mode, col.skipReason())
		return
	}
	em.head = col.head
	sort.Ints(col.indexes)
	var sum summary
	for _, i := range col.indexes {
		original := string(*col.text[i])
		o, err := s.correctText(in.ctx(), j, original, func(p string) error { return em.content(i, p) })
		if !s.endChoice(in, j, em, i, col.finish[i], original, o, err) {
			return
		}
		sum.add(o)
		j.answers = append(j.answers, answerPair{original, o.Text})
	}
	if col.usage != nil {
		_ = em.raw(col.usage)
	}
	_ = sse.Done()
	s.record(j, ex.ttfb.Milliseconds(), sum)
}

// endChoice finishes choice i after its correction: on fail-open the
// original is sent if nothing was, on fail-closed the error goes in-band.
// It reports whether the stream may go on.
func (s *Server) endChoice(in *inbound, j *job, em *emitter, i int, finish *string, original string, o correct.Outcome, err error) bool {
	ctx := in.ctx()
	if err != nil {
		if ctx.Err() == nil {
			_ = em.sse.Error(s.correctionFailed(err))
		}
		return false
	}
	s.observeCtx(ctx, j.dec, o)
	if o.Cut {
		length := "length"
		finish = &length
	}
	if !em.wroteContent(i) {
		if em.content(i, o.Text) != nil {
			return false
		}
	}
	return em.finish(i, finish, newReport(j.dec.Mode, o, original, j.dec.IncludeOriginal)) == nil
}
