package proxy

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/aligngate/aligngate/correct"
	"github.com/aligngate/aligngate/policies"
	"github.com/aligngate/aligngate/wire"
)

// maxAnswer bounds an upstream answer read whole for correction.
const maxAnswer = 64 << 20

// job is one chat request on its way to correction.
type job struct {
	up       *upstream
	body     []byte
	model    string
	dec      policies.Decision
	req      wire.ChatRequest
	question string
	route    string       // keys the cache when set (see correct.Request.Route)
	answers  []answerPair // filled by correction, for records
}

// correctText corrects one answer in the decided mode: Aligner at once, or
// Stream Aligner sentence by sentence on the whole text.
func (s *Server) correctText(ctx context.Context, j *job, answer string, onToken func(string) error) (correct.Outcome, error) {
	ctx, span := s.tel.Tracer.Start(ctx, "correct")
	defer span.End()
	r := correctionRequest(j.dec, j.question)
	r.Route = j.route
	r.AnswerTokens = j.req.AnswerCap()
	var (
		o   correct.Outcome
		err error
	)
	if j.dec.Mode == correct.ModeStream {
		sess := s.corrector.Follow(ctx, r, func(t string) error {
			if onToken != nil {
				return onToken(t)
			}
			return nil
		})
		if err = sess.Write(answer); err == nil {
			o, err = sess.Close()
		} else {
			_, _ = sess.Close()
		}
	} else {
		r.Answer = answer
		o, err = s.corrector.Align(ctx, r, onToken)
	}
	span.SetAttributes(attribute.String("aligngate.mode", j.dec.Mode), attribute.String("aligngate.template", j.dec.Template),
		attribute.Bool("aligngate.corrected", o.Corrected), attribute.String("aligngate.fallback", o.Fallback),
		attribute.String("aligngate.cache", o.Cache), attribute.Int("gen_ai.usage.input_tokens", o.TokensIn),
		attribute.Int("gen_ai.usage.output_tokens", o.TokensOut))
	return o, err
}

// correctWhole serves a non-stream chat request whose answer is corrected:
// every choice's message content is replaced and every other member is kept
// as the upstream sent it.
func (s *Server) correctWhole(in *inbound, j *job) {
	s.serveWhole(in, j, false, func(ctx context.Context, j *job, raw []byte) ([]byte, summary, string, error) {
		out, sum, err := s.rewriteAnswer(ctx, j, raw)
		if out == nil && err == nil {
			return nil, sum, wholeSkipReason(raw), nil
		}
		return out, sum, "", err
	})
}

// wholeRewriter corrects a whole upstream answer body. It returns a nil
// body, and why (an X-Aligngate-Skipped reason), when nothing in it could
// be corrected.
type wholeRewriter func(ctx context.Context, j *job, raw []byte) (out []byte, sum summary, skipped string, err error)

// serveWhole asks the upstream for a non-stream answer, corrects it with
// rewrite and writes it with the upstream's headers; an error status or an
// event stream is relayed as is. markUncorrected also sets
// X-Aligngate-Corrected: false on an answer rewrite skipped (the Responses
// route does; the chat route never did).
func (s *Server) serveWhole(in *inbound, j *job, markUncorrected bool, rewrite wholeRewriter) {
	ctx := in.ctx()
	cl := s.callFor(in, j.up, j.body)
	cl.noGzip = true
	ex, err := s.do(ctx, cl)
	if err != nil {
		s.fail(in, err)
		return
	}
	defer ex.Close()
	if ex.resp.StatusCode != http.StatusOK || isEventStream(ex.resp.Header) {
		s.relay(in.w, ex)
		return
	}
	raw, err := io.ReadAll(io.LimitReader(ex, maxAnswer))
	if err != nil {
		s.fail(in, err)
		return
	}
	upstreamMs := time.Since(ex.start).Milliseconds()
	ex.Close() // the upstream is done; correction time is not its time
	out, sum, skipped, err := rewrite(ctx, j, raw)
	if err != nil {
		if ctx.Err() == nil {
			s.correctionFailed(err).Write(in.w)
		}
		return
	}
	h := in.w.Header()
	copyHeader(h, ex.resp.Header)
	h.Del("Content-Length")
	h.Del("Content-Encoding")
	if out == nil {
		h.Set(headerSkipped, skipped)
		if markUncorrected {
			h.Set(headerCorrected, "false")
		}
		out = raw
	} else {
		sum.setHeaders(h)
	}
	h.Set("Content-Length", strconv.Itoa(len(out)))
	in.w.WriteHeader(http.StatusOK)
	_, _ = in.w.Write(out)
	s.record(j, upstreamMs, sum)
}

// rewriteAnswer corrects every text choice of a chat.completion body. It
// returns nil when nothing in it could be corrected.
func (s *Server) rewriteAnswer(ctx context.Context, j *job, raw []byte) ([]byte, summary, error) {
	var sum summary
	obj, err := wire.ParseObject(raw)
	if err != nil {
		return nil, sum, nil
	}
	choicesRaw, _ := obj.Get("choices")
	choices, err := wire.ParseArray(choicesRaw)
	if err != nil {
		return nil, sum, nil
	}
	results := make([]choiceResult, len(choices))
	var wg sync.WaitGroup
	for i, ch := range choices {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = s.rewriteChoice(ctx, j, ch)
		}()
	}
	wg.Wait()
	touched := false
	for i, r := range results {
		if r.err != nil {
			return nil, sum, r.err
		}
		if r.raw != nil {
			choices[i] = r.raw
			sum.add(r.outcome)
			j.answers = append(j.answers, answerPair{r.original, r.outcome.Text})
			touched = true
		}
	}
	if !touched {
		return nil, sum, nil
	}
	obj.Set("choices", wire.JoinArray(choices))
	b, err := obj.MarshalJSON()
	return b, sum, err
}

type choiceResult struct {
	raw      json.RawMessage // nil: left as is
	original string
	outcome  correct.Outcome
	err      error
}

// rewriteChoice corrects one choice, unless it holds no plain text answer
// (tool calls, a refusal, non-string content).
func (s *Server) rewriteChoice(ctx context.Context, j *job, raw json.RawMessage) choiceResult {
	choice, err := wire.ParseObject(raw)
	if err != nil {
		return choiceResult{}
	}
	msgRaw, _ := choice.Get("message")
	msg, err := wire.ParseObject(msgRaw)
	if err != nil || !isNull(msg, "tool_calls") || !isNull(msg, "function_call") || !isNull(msg, "refusal") {
		return choiceResult{}
	}
	contentRaw, _ := msg.Get("content")
	var content string
	if json.Unmarshal(contentRaw, &content) != nil || content == "" {
		return choiceResult{}
	}
	o, err := s.correctText(ctx, j, content, nil)
	if err != nil {
		return choiceResult{err: err}
	}
	s.observeCtx(ctx, j.dec, o)
	if err := msg.SetJSON("content", o.Text); err != nil {
		return choiceResult{err: err}
	}
	mb, _ := msg.MarshalJSON()
	choice.Set("message", mb)
	if o.Cut {
		choice.Set("finish_reason", json.RawMessage(`"length"`))
	}
	if err := choice.SetJSON("aligngate", newReport(j.dec.Mode, o, content, j.dec.IncludeOriginal)); err != nil {
		return choiceResult{err: err}
	}
	cb, _ := choice.MarshalJSON()
	return choiceResult{raw: cb, original: content, outcome: o}
}

// isNull reports whether key is absent or null in o.
func isNull(o *wire.Object, key string) bool {
	v, ok := o.Get(key)
	return !ok || string(v) == "null"
}
