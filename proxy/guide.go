package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

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
func (s *Server) guide(in *inbound, j *job, stream bool) {
	if j.req.N > 1 || (!stream && (j.req.Tools == '[' || j.req.Functions == '[')) {
		if stream {
			s.followStream(in, j)
		} else {
			s.correctWhole(in, j)
		}
		return
	}
	g := &guideUpstream{s: s, in: in, j: j}
	if stream {
		s.guideStream(in, j, g)
		return
	}
	s.guideWhole(in, j, g)
}

// guideStream streams each corrected sentence as soon as it is corrected.
// The SSE response starts with the first corrected text, so an upstream
// that fails its first round is answered with its own status and body.
func (s *Server) guideStream(in *inbound, j *job, g *guideUpstream) {
	ctx := in.ctx()
	var em *emitter
	open := func() *emitter {
		if em == nil {
			em = newEmitter(wire.StartSSE(in.w, http.StatusOK))
			em.head = g.chunkHead()
		}
		return em
	}
	o, err := s.runGuide(ctx, j, g, func(t string) error { return open().content(0, t) })
	if err != nil {
		if em == nil {
			s.guideFailed(in, err)
		} else {
			s.guideFailedInBand(ctx, em.sse, err)
		}
		return
	}
	original := g.original.String()
	if !s.endChoice(in, j, open(), 0, g.finishReason(o), original, o, nil) {
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
func (s *Server) guideWhole(in *inbound, j *job, g *guideUpstream) {
	ctx := in.ctx()
	o, err := s.runGuide(ctx, j, g, func(string) error { return nil })
	if err != nil {
		s.guideFailed(in, err)
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
		s.correctionFailed(err).Write(in.w)
		return
	}
	var sum summary
	sum.add(o)
	h := in.w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	sum.setHeaders(h)
	in.w.WriteHeader(http.StatusOK)
	_, _ = in.w.Write(body)
	j.answers = append(j.answers, answerPair{original, o.Text})
	s.record(j, g.ttfb.Milliseconds(), sum)
}

// runGuide runs the corrector's guide loop over g in a span.
func (s *Server) runGuide(ctx context.Context, j *job, g *guideUpstream, emit func(string) error) (correct.Outcome, error) {
	ctx, span := s.tel.Tracer.Start(ctx, "correct.guide")
	defer span.End()
	r := correctionRequest(j.dec, j.question)
	r.AnswerTokens = j.req.AnswerCap()
	o, err := s.corrector.Guide(ctx, r, g, emit)
	span.SetAttributes(attribute.String("aligngate.mode", j.dec.Mode), attribute.Int("aligngate.guide.rounds", o.Rounds),
		attribute.Bool("aligngate.guide.truncated", o.Truncated), attribute.Bool("aligngate.corrected", o.Corrected),
		attribute.String("aligngate.fallback", o.Fallback), attribute.Int("gen_ai.usage.output_tokens", o.TokensOut))
	return o, err
}

// guideFailed answers a guide run that failed before anything was sent: an
// upstream's own error answer is relayed unchanged.
func (s *Server) guideFailed(in *inbound, err error) {
	ctx := in.ctx()
	if ctx.Err() != nil {
		return // the client left
	}
	var ue *guideUpstreamError
	if errors.As(err, &ue) && ue.err == nil {
		ue.write(in.w)
		return
	}
	s.logger.Warn("guided correction failed", "err", err)
	guideError(ctx, err).Write(in.w)
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
