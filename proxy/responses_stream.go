package proxy

import (
	"encoding/json"
	"errors"
	"io"
	"strings"
	"sync"

	"github.com/aligngate/aligngate/correct"
	"github.com/aligngate/aligngate/wire"
)

// respWriter writes the events of one corrected Responses stream. Every
// event gets the next sequence number, counting on from the upstream's
// first one, so the numbers stay strictly increasing however many deltas
// a correction writes. Corrections may emit from their own goroutines; the
// mutex keeps events whole and numbered in the order they go out.
type respWriter struct {
	mu      sync.Mutex
	sse     *wire.SSEWriter
	next    int64
	started bool
}

// relay writes an upstream event, renumbered, after edit (when set)
// changed it. Data that is not a JSON object is relayed as is.
func (w *respWriter) relay(typ string, data []byte, edit func(*wire.Object) error) error {
	o, err := wire.ParseObject(data)
	if err != nil {
		w.mu.Lock()
		defer w.mu.Unlock()
		return w.sse.Data(data)
	}
	if edit != nil {
		if err := edit(o); err != nil {
			return err
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.started {
		var seq int64
		if v, ok := o.Get("sequence_number"); ok && json.Unmarshal(v, &seq) == nil {
			w.next = seq
		}
		w.started = true
	}
	if err := o.SetJSON("sequence_number", w.next); err != nil {
		return err
	}
	w.next++
	b, err := o.MarshalJSON()
	if err != nil {
		return err
	}
	return w.sse.Event(typ, b)
}

// delta writes a corrected text delta.
func (w *respWriter) delta(ev wire.TextDeltaEvent) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.started = true
	ev.SequenceNumber = w.next
	w.next++
	b, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	return w.sse.Event(ev.Type, b)
}

func (w *respWriter) error(e *wire.Error) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.sse.Error(e)
}

// respPart is one output_text part being corrected.
type respPart struct {
	key      partKey
	itemID   string
	original strings.Builder
	sess     *correct.Session // stream mode
	emitted  strings.Builder  // written by the correction, read after it ended
	held     [][]byte         // annotation events, relayed only if the text is unchanged
	finished bool
	fix      partFix
	outcome  correct.Outcome
}

// respStream rewrites one upstream Responses event stream: the deltas of
// each output_text part of a message item are replaced by its correction
// (Aligner when the part is done, or Stream Aligner sentence by sentence as
// it arrives), the part's done events, its item's done event and the final
// response carry the corrected text, and every other event passes through
// in order.
type respStream struct {
	s        *Server
	in       *inbound
	j        *job
	w        *respWriter
	messages map[int]bool // output indexes of assistant message items
	parts    map[partKey]*respPart
	order    []*respPart
	sawDone  bool
}

// responsesStream serves a streamed Responses request in aligner or stream
// mode.
func (s *Server) responsesStream(in *inbound, j *job) {
	ex, sse := s.startStream(in, j)
	if ex == nil {
		return
	}
	defer ex.Close()
	rs := &respStream{s: s, in: in, j: j, w: &respWriter{sse: sse}, messages: map[int]bool{}, parts: map[partKey]*respPart{}}
	q := readEvents(ex)
	for {
		data, err := q.next(in.ctx())
		if errors.Is(err, wire.ErrDone) || errors.Is(err, io.EOF) {
			rs.sawDone = errors.Is(err, wire.ErrDone)
			break
		}
		if err != nil {
			rs.abort()
			s.streamFailed(sse, ex, err)
			return
		}
		if err := rs.handle(data); err != nil {
			rs.fail(err)
			return
		}
	}
	ex.Close()
	if err := rs.finishAll(); err != nil {
		rs.fail(err)
		return
	}
	if rs.sawDone {
		_ = sse.Done()
	}
	s.record(j, ex.ttfb.Milliseconds(), rs.summary())
}

// fail ends the stream after a correction failed: a fail-closed error is
// reported in-band; a client that left needs nothing.
func (rs *respStream) fail(err error) {
	rs.abort()
	if rs.in.ctx().Err() == nil {
		_ = rs.w.error(correctionError(err))
	}
}

// abort ends every open session; their results are dropped.
func (rs *respStream) abort() {
	for _, p := range rs.order {
		if p.sess != nil && !p.finished {
			_, _ = p.sess.Close()
		}
	}
}

func (rs *respStream) handle(data []byte) error {
	ev, err := wire.ParseResponseEvent(data)
	if err != nil {
		return rs.w.relay("", data, nil)
	}
	switch ev.Type {
	case wire.EventOutputItemAdded:
		var it wire.OutputItem
		if json.Unmarshal(ev.Item, &it) == nil && isAssistantMessage(it) {
			rs.messages[ev.OutputIndex] = true
		}
	case wire.EventContentPartAdded:
		var p wire.ContentPart
		if rs.messages[ev.OutputIndex] && json.Unmarshal(ev.Part, &p) == nil && p.Type == wire.PartOutputText {
			rs.open(ev)
		}
	case wire.EventOutputTextDelta:
		if p := rs.part(ev); p != nil && !p.finished {
			return rs.write(p, ev.Delta)
		}
	case wire.EventOutputTextAnnot:
		if p := rs.part(ev); p != nil && !p.finished {
			p.held = append(p.held, data)
			return nil
		}
	case wire.EventOutputTextDone:
		if p := rs.part(ev); p != nil {
			if err := rs.finish(p, ev.Text); err != nil {
				return err
			}
			return rs.w.relay(ev.Type, data, func(o *wire.Object) error { return o.SetJSON("text", p.fix.text) })
		}
	case wire.EventContentPartDone:
		if p := rs.part(ev); p != nil {
			if err := rs.finish(p, nil); err != nil {
				return err
			}
			return rs.w.relay(ev.Type, data, func(o *wire.Object) error {
				return rewriteMember(o, "part", func(r json.RawMessage) (json.RawMessage, error) { return rewritePart(r, p.fix) })
			})
		}
	case wire.EventOutputItemDone:
		if rs.messages[ev.OutputIndex] {
			return rs.itemDone(ev, data)
		}
	case wire.EventResponseCompleted, wire.EventResponseIncomplete, wire.EventResponseFailed:
		return rs.terminal(ev, data)
	}
	return rs.w.relay(ev.Type, data, nil)
}

// itemDone finishes the parts of a message item and relays its done event
// with their corrected text.
func (rs *respStream) itemDone(ev wire.ResponseEvent, data []byte) error {
	fx := fixes{}
	for _, p := range rs.order {
		if p.key.item != ev.OutputIndex {
			continue
		}
		if err := rs.finish(p, nil); err != nil {
			return err
		}
		fx[p.key] = p.fix
	}
	return rs.w.relay(ev.Type, data, func(o *wire.Object) error {
		return rewriteMember(o, "item", func(r json.RawMessage) (json.RawMessage, error) { return rewriteItem(r, ev.OutputIndex, fx) })
	})
}

// terminal finishes every part and relays the final response with the
// corrected text and the report.
func (rs *respStream) terminal(ev wire.ResponseEvent, data []byte) error {
	if err := rs.finishAll(); err != nil {
		return err
	}
	if len(rs.order) == 0 {
		return rs.w.relay(ev.Type, data, nil)
	}
	fx := fixes{}
	outcomes := make([]correct.Outcome, 0, len(rs.order))
	var original strings.Builder
	for _, p := range rs.order {
		fx[p.key] = p.fix
		outcomes = append(outcomes, p.outcome)
		original.WriteString(p.fix.original)
	}
	return rs.w.relay(ev.Type, data, func(o *wire.Object) error {
		return rewriteMember(o, "response", func(r json.RawMessage) (json.RawMessage, error) {
			orig := original.String()
			if output, err := responseOutput(r); err == nil {
				orig = outputText(output) // the SDKs' output_text as the upstream wrote it
			}
			rep := newReport(rs.j.dec.Mode, combine(outcomes), orig, rs.j.dec.IncludeOriginal)
			return rewriteResponse(r, fx, rep)
		})
	})
}

// responseOutput returns the output items of a response object.
func responseOutput(raw json.RawMessage) ([]json.RawMessage, error) {
	obj, err := wire.ParseObject(raw)
	if err != nil {
		return nil, err
	}
	out, _ := obj.Get("output")
	return wire.ParseArray(out)
}

// rewriteMember replaces member key of o by what fn makes of it; an absent
// member is left absent.
func rewriteMember(o *wire.Object, key string, fn func(json.RawMessage) (json.RawMessage, error)) error {
	v, ok := o.Get(key)
	if !ok {
		return nil
	}
	nv, err := fn(v)
	if err != nil {
		return err
	}
	o.Set(key, nv)
	return nil
}

func (rs *respStream) part(ev wire.ResponseEvent) *respPart {
	return rs.parts[partKey{ev.OutputIndex, ev.ContentIndex}]
}

// open starts tracking a new output_text part; in stream mode its session
// starts at once.
func (rs *respStream) open(ev wire.ResponseEvent) {
	k := partKey{ev.OutputIndex, ev.ContentIndex}
	if _, ok := rs.parts[k]; ok {
		return
	}
	p := &respPart{key: k, itemID: ev.ItemID}
	rs.parts[k] = p
	rs.order = append(rs.order, p)
	if rs.j.dec.Mode == correct.ModeStream {
		r := correctionRequest(rs.j.dec, rs.j.question)
		r.Route = rs.j.route
		p.sess = rs.s.corrector.Follow(rs.in.ctx(), r, func(t string) error { return rs.emit(p, t) })
	}
}

// emit writes corrected text of part p as a delta.
func (rs *respStream) emit(p *respPart, text string) error {
	if text == "" {
		return nil
	}
	p.emitted.WriteString(text)
	return rs.w.delta(wire.NewTextDelta(p.itemID, p.key.item, p.key.part, text))
}

// write takes an upstream delta of part p.
func (rs *respStream) write(p *respPart, delta string) error {
	p.original.WriteString(delta)
	if p.sess != nil {
		return p.sess.Write(delta)
	}
	return nil
}

// finish corrects part p (Aligner) or waits for its last sentence (Stream
// Aligner), then relays its held annotations if the text did not change.
// doneText is the text of the part's done event, used when no delta came.
// Later calls do nothing.
func (rs *respStream) finish(p *respPart, doneText *string) error {
	if p.finished {
		return nil
	}
	p.finished = true
	if p.original.Len() == 0 && doneText != nil && *doneText != "" {
		if err := rs.write(p, *doneText); err != nil {
			return err
		}
	}
	original := p.original.String()
	ctx := rs.in.ctx()
	var (
		o   correct.Outcome
		err error
	)
	switch {
	case p.sess != nil:
		o, err = p.sess.Close()
	case original == "":
		o = correct.Outcome{}
	default:
		o, err = rs.s.correctText(ctx, rs.j, original, func(t string) error { return rs.emit(p, t) })
	}
	if err != nil {
		return err
	}
	if original != "" {
		rs.s.observeCtx(ctx, rs.j.dec, o)
	}
	if p.emitted.Len() == 0 {
		if err := rs.emit(p, o.Text); err != nil {
			return err
		}
	}
	p.outcome = o
	p.fix = partFix{itemID: p.itemID, text: p.emitted.String(), original: original}
	rs.j.answers = append(rs.j.answers, answerPair{original, p.fix.text})
	if p.fix.text == original {
		for _, h := range p.held {
			if err := rs.w.relay(wire.EventOutputTextAnnot, h, nil); err != nil {
				return err
			}
		}
	}
	p.held = nil
	return nil
}

// finishAll finishes every part still open, in the order they opened.
func (rs *respStream) finishAll() error {
	for _, p := range rs.order {
		if err := rs.finish(p, nil); err != nil {
			return err
		}
	}
	return nil
}

func (rs *respStream) summary() summary {
	var sum summary
	for _, p := range rs.order {
		sum.add(p.outcome)
	}
	return sum
}
