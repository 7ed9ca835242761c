package proxy

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aligngate/aligngate/correct"
	"github.com/aligngate/aligngate/policies"
	"github.com/aligngate/aligngate/telemetry"
	"github.com/aligngate/aligngate/wire"
)

// Response headers that tell the client what aligngate did.
const (
	headerMode       = "X-Aligngate-Mode"
	headerCorrected  = "X-Aligngate-Corrected"
	headerCorrMs     = "X-Aligngate-Correction-Ms"
	headerFallback   = "X-Aligngate-Fallback"
	headerSkipped    = "X-Aligngate-Skipped"
	headerCache      = "X-Aligngate-Cache"
	headerArm        = policies.ArmHeader
	headerExperiment = "X-Aligngate-Experiment"
)

// decide asks the policies what to do with a request and annotates
// telemetry with the answer.
func (s *Server) decide(in *inbound, rt wire.Routing) policies.Decision {
	ctx := in.ctx()
	_, span := s.tel.Tracer.Start(ctx, "policy.decide")
	r := in.req
	d := s.policies.Decide(policies.Facts{
		Model:      rt.Model.Value,
		Route:      r.URL.Path,
		ClientKey:  bearer(r.Header.Get("Authorization")),
		User:       rt.User.Value,
		Header:     r.Header.Get,
		Metadata:   rt.Metadata,
		ModeHeader: r.Header.Get(headerMode),
	})
	span.End()
	info := telemetry.Info(ctx)
	info.Update(func(i *telemetry.RequestInfo) {
		i.Model, i.Mode, i.Arm, i.Experiment = rt.Model.Value, d.Mode, d.Arm, d.Experiment
	})
	if d.Arm != "" {
		in.setHeader(headerArm, d.Arm)
		in.setHeader(headerExperiment, d.Experiment)
		s.tel.Metrics.Assignment(ctx, d.Experiment, d.Arm)
	}
	in.setHeader(headerMode, d.Mode)
	return d
}

func bearer(auth string) string {
	if k, ok := strings.CutPrefix(auth, "Bearer "); ok {
		return strings.TrimSpace(k)
	}
	return ""
}

// correctionRequest turns a decision into the corrector's request.
func correctionRequest(d policies.Decision, question string) correct.Request {
	return correct.Request{
		Mode: d.Mode, Backend: d.Backend, Template: d.Template, Question: question,
		Temperature: d.Temperature, TopP: d.TopP, MaxTokens: d.MaxTokens, Budget: d.Budget,
		FailClosed: d.FailClosed, NoCache: !d.Cache,
	}
}

// summary aggregates the outcomes of every corrected choice of one answer.
type summary struct {
	corrected bool
	fallback  string
	cache     string
	dur       time.Duration
}

func (s *summary) add(o correct.Outcome) {
	s.corrected = s.corrected || o.Corrected
	if s.fallback == "" {
		s.fallback = o.Fallback
	}
	if s.cache == "" || o.Cache != "hit" {
		s.cache = o.Cache
	}
	s.dur += o.Duration
}

// setHeaders writes the outcome headers of a whole (non-stream) answer.
func (s summary) setHeaders(h http.Header) {
	h.Set(headerCorrected, strconv.FormatBool(s.corrected))
	h.Set(headerCorrMs, strconv.FormatInt(s.dur.Milliseconds(), 10))
	if s.fallback != "" {
		h.Set(headerFallback, s.fallback)
	}
	if s.cache != "" {
		h.Set(headerCache, s.cache)
	}
}

func newReport(mode string, o correct.Outcome, original string, includeOriginal bool) *wire.Report {
	r := &wire.Report{Mode: mode, Corrected: o.Corrected, CorrectionMs: o.Duration.Milliseconds(), Fallback: o.Fallback, Cache: o.Cache,
		Drafted: o.Drafted, Accepted: o.Accepted}
	if o.TokensIn > 0 || o.TokensOut > 0 {
		r.Usage = &wire.ReportUsage{PromptTokens: o.TokensIn, CompletionTokens: o.TokensOut}
	}
	// A stream that fell back after corrected text went out carries the
	// original, so the answer is never lost.
	if includeOriginal || (o.Fallback != "" && o.Partial) {
		r.Original = &original
	}
	return r
}

// observe records a correction's outcome in telemetry.
func (s *Server) observeCtx(ctx context.Context, d policies.Decision, o correct.Outcome) {
	outcome := "unchanged"
	switch {
	case o.Fallback != "":
		outcome = "fallback_" + o.Fallback
	case o.Corrected:
		outcome = "corrected"
	}
	backend := d.Backend
	if backend == "" {
		backend = s.settings.Backend
	}
	s.tel.Metrics.Correction(ctx, d.Mode, backend, outcome, o.Duration, o.TokensOut)
	if o.Cache != "" {
		s.tel.Metrics.Cache(ctx, o.Cache)
	}
	telemetry.Info(ctx).Update(func(i *telemetry.RequestInfo) {
		i.Corrected = i.Corrected || o.Corrected
		i.Drafted += o.Drafted
		i.Accepted += o.Accepted
		if o.Fallback != "" {
			i.Fallback = o.Fallback
		}
		if o.Cache != "" {
			i.Cache = o.Cache
		}
	})
}

// answerPair is one choice's original and served text, for records.
type answerPair struct{ original, corrected string }

// record appends the record of an enrolled request, or of any request
// with Options.RecordAll.
func (s *Server) record(j *job, upstreamMs int64, sum summary) {
	if s.recorder == nil || (j.dec.Experiment == "" && !s.recordAll) {
		return
	}
	rec := j.dec.NewRecord(j.model, time.Now())
	rec.UpstreamMS = upstreamMs
	rec.CorrectionMS = sum.dur.Milliseconds()
	rec.Cache = sum.cache
	rec.Corrected = sum.corrected
	rec.Fallback = sum.fallback != ""
	rec.FallbackReason = sum.fallback
	rec.Question = j.question
	rec.Route = j.route
	if rec.Route == "" {
		rec.Route = "/v1/chat/completions"
	}
	if len(j.answers) > 0 {
		rec.OriginalAnswer, rec.CorrectedAnswer = j.answers[0].original, j.answers[0].corrected
	}
	s.recorder.Record(rec)
}
