package proxy

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel/attribute"

	"github.com/aligngate/aligngate/correct"
	"github.com/aligngate/aligngate/wire"
)

// errGuideOpaque is returned by a guide round whose answer carries a tool
// call or a refusal: guide drives plain text only.
var errGuideOpaque = errors.New("guide: the upstream answered with a tool call or a refusal")

// maxErrorBody bounds an upstream error answer kept to relay to the client.
const maxErrorBody = 1 << 20

// guide serves a chat request in stream mode on an upstream driven by
// guide: the paper's loop, asking the upstream for one sentence at a time
// after the corrected prefix (see guideUpstream). Requests guide cannot
// drive as one text answer (several choices, or tools on a whole answer,
// where a tool call cannot be told apart in advance) are served as follow
// would serve them.
func (s *Server) guide(c *gin.Context, j *job, stream bool) {
	if j.req.N > 1 || (!stream && (j.req.Tools == '[' || j.req.Functions == '[')) {
		if stream {
			s.followStream(c, j)
		} else {
			s.correctWhole(c, j)
		}
		return
	}
	g := &guideUpstream{s: s, c: c, j: j}
	if stream {
		s.guideStream(c, j, g)
		return
	}
	s.guideWhole(c, j, g)
}

// guideStream streams each corrected sentence as soon as it is corrected.
// The SSE response starts with the first corrected text, so an upstream
// that fails its first round is answered with its own status and body.
func (s *Server) guideStream(c *gin.Context, j *job, g *guideUpstream) {
	ctx := c.Request.Context()
	var em *emitter
	open := func() *emitter {
		if em == nil {
			em = newEmitter(wire.StartSSE(c.Writer, http.StatusOK))
			em.head = g.chunkHead()
		}
		return em
	}
	o, err := s.runGuide(ctx, j, g, func(t string) error { return open().content(0, t) })
	if err != nil {
		if em == nil {
			s.guideFailed(c, err)
		} else {
			s.guideFailedInBand(ctx, em.sse, err)
		}
		return
	}
	original := g.original.String()
	if !s.endChoice(c, j, open(), 0, g.finishReason(o), original, o, nil) {
		return
	}
	_ = em.sse.Done()
	var sum summary
	sum.add(o)
	j.answers = append(j.answers, answerPair{original, o.Text})
	s.record(j, g.ttfb.Milliseconds(), sum)
}

// guideWhole runs the same loop for a non-stream request and answers with
// one chat.completion holding the corrected text.
func (s *Server) guideWhole(c *gin.Context, j *job, g *guideUpstream) {
	ctx := c.Request.Context()
	o, err := s.runGuide(ctx, j, g, func(string) error { return nil })
	if err != nil {
		s.guideFailed(c, err)
		return
	}
	s.observeCtx(ctx, j.dec, o)
	original := g.original.String()
	head := g.chunkHead()
	body, err := json.Marshal(wire.Completion{
		ID: head.ID, Object: "chat.completion", Created: head.Created, Model: head.Model,
		SystemFingerprint: head.SystemFingerprint,
		Choices: []wire.CompletionChoice{{
			Message:      wire.Message{Role: "assistant", Content: o.Text},
			FinishReason: *g.finishReason(o),
			Aligngate:    newReport(j.dec.Mode, o, original, j.dec.IncludeOriginal),
		}},
	})
	if err != nil {
		correctionError(err).Write(c.Writer)
		return
	}
	var sum summary
	sum.add(o)
	h := c.Writer.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	sum.setHeaders(h)
	c.Writer.WriteHeader(http.StatusOK)
	_, _ = c.Writer.Write(body)
	j.answers = append(j.answers, answerPair{original, o.Text})
	s.record(j, g.ttfb.Milliseconds(), sum)
}

// runGuide runs the corrector's guide loop over g in a span.
func (s *Server) runGuide(ctx context.Context, j *job, g *guideUpstream, emit func(string) error) (correct.Outcome, error) {
	ctx, span := s.tel.Tracer.Start(ctx, "correct.guide")
	defer span.End()
	o, err := s.corrector.Guide(ctx, correctionRequest(j.dec, j.question), g, emit)
	span.SetAttributes(attribute.String("aligngate.mode", j.dec.Mode), attribute.Int("aligngate.guide.rounds", o.Rounds),
		attribute.Bool("aligngate.guide.truncated", o.Truncated), attribute.Bool("aligngate.corrected", o.Corrected),
		attribute.String("aligngate.fallback", o.Fallback), attribute.Int("gen_ai.usage.output_tokens", o.TokensOut))
	return o, err
}

// guideFailed answers a guide run that failed before anything was sent: an
// upstream's own error answer is relayed unchanged.
func (s *Server) guideFailed(c *gin.Context, err error) {
	ctx := c.Request.Context()
	if ctx.Err() != nil {
		return // the client left
	}
	var ue *guideUpstreamError
	if errors.As(err, &ue) && ue.err == nil {
		ue.write(c.Writer)
		return
	}
	s.logger.Warn("guided correction failed", "err", err)
	guideError(ctx, err).Write(c.Writer)
}

// guideFailedInBand reports a failure after the stream started; the stream
// ends without [DONE].
func (s *Server) guideFailedInBand(ctx context.Context, sse *wire.SSEWriter, err error) {
	if ctx.Err() != nil {
		return
	}
	s.logger.Warn("guided correction failed mid-stream", "err", err)
	var ue *guideUpstreamError
	if errors.As(err, &ue) && ue.err == nil {
		if b := ue.errorEvent(); b != nil {
			_ = sse.Data(b)
			return
		}
	}
	_ = sse.Error(guideError(ctx, err))
}

// guideError maps a failed guide run to the error the client gets.
func guideError(ctx context.Context, err error) *wire.Error {
	var ue *guideUpstreamError
	switch {
	case errors.As(err, &ue) && ue.err != nil:
		return upstreamError(ctx, ue.err)
	case errors.As(err, &ue):
		return wire.NewError(http.StatusBadGateway, wire.TypeUpstream, "upstream_status",
			fmt.Sprintf("The upstream answered with status %d during guided correction.", ue.status))
	case errors.Is(err, errGuideOpaque):
		return wire.NewError(http.StatusBadGateway, wire.TypeUpstream, "upstream_unsupported",
			"The upstream answered with a tool call or a refusal, which guided correction cannot carry.")
	}
	return correctionError(err)
}

// guideUpstream drives the chat completions upstream for correct.Guide, one
// sentence per call. Each call sends the client's request body with every
// field kept except: "stream" true, "n" and "stream_options" removed, and,
// once there is a corrected prefix, a final assistant message holding it
// with "continue_final_message": true and "add_generation_prompt": false.
// That is the convention of vLLM and of llama.cpp's server for continuing an
// assistant message; an upstream that ignores it starts its answer afresh,
// which is why guide is chosen per upstream (upstreams[].drive).
//
// The streamed deltas go through a correct.Splitter; at the first complete
// sentence (or whole fenced code block) the call is cancelled and that text
// returned. The client's max_tokens applies to each call, not to the whole
// answer. Next is called from one goroutine at a time.
type guideUpstream struct {
	s        *Server
	c        *gin.Context
	j        *job
	head     wire.Chunk // id, created, model, fingerprint of the first answer
	finish   *string    // finish reason of the call that ended the answer
	original strings.Builder
	ttfb     time.Duration // of the first call
	calls    int
}

// Next asks the upstream to continue after prefix and returns its next
// sentence; done reports whether the upstream ended its answer.
func (g *guideUpstream) Next(ctx context.Context, prefix string) (string, bool, error) {
	body, err := guideBody(g.j.body, prefix)
	if err != nil {
		return "", false, err
	}
	cl := g.s.callFor(g.c, g.j.up, body)
	cl.noGzip = true
	ex, err := g.s.do(ctx, cl)
	if err != nil {
		return "", false, &guideUpstreamError{err: err}
	}
	defer ex.Close()
	if g.calls == 0 {
		g.ttfb = ex.ttfb
	}
	g.calls++
	if ex.resp.StatusCode != http.StatusOK || !isEventStream(ex.resp.Header) {
		// An error, or an upstream that ignored "stream": relayed as it is
		// when nothing was sent yet, as startStream does.
		return "", false, newGuideUpstreamError(ex)
	}
	text, done, err := g.read(ex)
	g.original.WriteString(text)
	return text, done, err
}

// read reads one streamed call up to its first sentence or its end.
func (g *guideUpstream) read(ex *exchange) (string, bool, error) {
	r := wire.NewSSEReader(ex)
	split := correct.NewSplitter()
	var cut sentenceCut
	for {
		data, err := r.Next()
		if errors.Is(err, wire.ErrDone) || errors.Is(err, io.EOF) {
			cut.add(split.Flush(), true)
			return cut.String(), true, nil
		}
		if err != nil {
			return "", false, &guideUpstreamError{err: err}
		}
		var ev struct {
			wire.Chunk
			Error json.RawMessage `json:"error"`
		}
		if json.Unmarshal(data, &ev) != nil {
			continue // not a chunk: nothing to continue from
		}
		if len(ev.Error) > 0 && string(ev.Error) != "null" {
			return "", false, &guideUpstreamError{status: http.StatusBadGateway, body: bytes.Clone(data),
				header: http.Header{"Content-Type": {"application/json"}}}
		}
		if g.head.ID == "" {
			g.head = wire.Chunk{ID: ev.ID, Created: ev.Created, Model: ev.Model, SystemFingerprint: ev.SystemFingerprint}
		}
		for i := range ev.Choices {
			cc := &ev.Choices[i]
			if cc.Opaque() {
				return "", false, errGuideOpaque
			}
			var segs []correct.Segment
			if cc.Delta.Content != nil {
				segs = split.Write(*cc.Delta.Content)
			}
			if cc.FinishReason != nil {
				g.finish = cc.FinishReason
				cut.add(append(segs, split.Flush()...), true)
				return cut.String(), true, nil
			}
			if cut.add(segs, false) {
				return cut.String(), false, nil
			}
		}
	}
}

// chunkHead is the id, created, model and fingerprint of the answer: the
// upstream's, or made up when it sent none.
func (g *guideUpstream) chunkHead() wire.Chunk {
	h := g.head
	if h.ID == "" {
		h.ID = "chatcmpl-aligngate-" + rand.Text()
	}
	if h.Created == 0 {
		h.Created = time.Now().Unix()
	}
	if h.Model == "" {
		h.Model = g.j.model
	}
	return h
}

// finishReason is "length" when guide stopped at max_rounds, else the
// upstream's last finish reason ("stop" when it sent none).
func (g *guideUpstream) finishReason(o correct.Outcome) *string {
	r := "stop"
	switch {
	case o.Truncated:
		r = "length"
	case g.finish != nil && *g.finish != "":
		r = *g.finish
	}
	return &r
}

// guideBody is the upstream request body of one guide call.
func guideBody(body []byte, prefix string) ([]byte, error) {
	o, err := wire.ParseObject(body)
	if err != nil {
		return nil, fmt.Errorf("guide: request body: %w", err)
	}
	o.Set("stream", json.RawMessage("true"))
	o.Delete("n")
	o.Delete("stream_options")
	if prefix != "" {
		raw, _ := o.Get("messages")
		msgs, err := wire.ParseArray(raw)
		if err != nil {
			return nil, fmt.Errorf("guide: messages: %w", err)
		}
		m, err := json.Marshal(wire.Message{Role: "assistant", Content: prefix})
		if err != nil {
			return nil, fmt.Errorf("guide: prefix: %w", err)
		}
		o.Set("messages", wire.JoinArray(append(msgs, m)))
		o.Set("continue_final_message", json.RawMessage("true"))
		o.Set("add_generation_prompt", json.RawMessage("false"))
	}
	b, err := o.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("guide: request body: %w", err)
	}
	return b, nil
}

// sentenceCut gathers the segments of one guide call up to its first
// sentence, or its first whole fenced code block, with the whitespace
// before it.
type sentenceCut struct {
	b     strings.Builder
	fence string // inside a code block: the opening fence run
}

// add appends segments. Unless all, it stops at the segment that completes
// the cut, drops the rest and reports true.
func (k *sentenceCut) add(segs []correct.Segment, all bool) bool {
	for _, seg := range segs {
		k.b.WriteString(seg.Text)
		complete := false
		switch {
		case !seg.Code:
			complete = strings.TrimSpace(seg.Text) != ""
		case k.fence == "":
			k.fence = fenceRun(seg.Text)
		default:
			complete = closesFence(seg.Text, k.fence)
		}
		if complete && !all {
			return true
		}
	}
	return false
}

func (k *sentenceCut) String() string { return k.b.String() }

// fenceRun returns the run of backticks or tildes opening a fence line.
func fenceRun(line string) string {
	t := strings.TrimLeft(line, " \t")
	n := 0
	for n < len(t) && (t[n] == '`' || t[n] == '~') && t[n] == t[0] {
		n++
	}
	return t[:n]
}

// closesFence reports whether a code line closes the block opened by fence
// (CommonMark: the same character, at least as many, nothing else).
func closesFence(line, fence string) bool {
	t := strings.TrimSpace(line)
	return fence != "" && len(t) >= len(fence) && strings.Trim(t, fence[:1]) == ""
}

// guideUpstreamError is a failed guide call: a transport or read error, or
// an upstream answer other than a 200 event stream (kept to be relayed).
type guideUpstreamError struct {
	err    error
	status int
	header http.Header
	body   []byte
}

func newGuideUpstreamError(ex *exchange) *guideUpstreamError {
	body, err := io.ReadAll(io.LimitReader(ex, maxErrorBody))
	if err != nil {
		return &guideUpstreamError{err: err}
	}
	return &guideUpstreamError{status: ex.resp.StatusCode, header: ex.resp.Header.Clone(), body: body}
}

func (e *guideUpstreamError) Error() string {
	if e.err != nil {
		return "guide: upstream call: " + e.err.Error()
	}
	return fmt.Sprintf("guide: upstream answered %d", e.status)
}

func (e *guideUpstreamError) Unwrap() error { return e.err }

// write relays the upstream's answer as it was.
func (e *guideUpstreamError) write(w http.ResponseWriter) {
	h := w.Header()
	copyHeader(h, e.header)
	h.Set("Content-Length", strconv.Itoa(len(e.body)))
	w.WriteHeader(e.status)
	_, _ = w.Write(e.body)
}

// errorEvent is the upstream's error body compacted to one SSE event, or
// nil when it is not a JSON error object.
func (e *guideUpstreamError) errorEvent() []byte {
	o, err := wire.ParseObject(e.body)
	if err != nil || isNull(o, "error") {
		return nil
	}
	var b bytes.Buffer
	if json.Compact(&b, e.body) != nil {
		return nil
	}
	return b.Bytes()
}

var _ correct.Upstream = (*guideUpstream)(nil)
