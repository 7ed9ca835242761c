package proxy

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/aligngate/aligngate/correct"
	"github.com/aligngate/aligngate/wire"
)

// responsesWhole serves a non-stream Responses request whose answer is
// corrected: the text of every output_text part of its message items is
// replaced, everything else is kept as the upstream sent it, and the
// report goes in a top-level "aligngate" member.
func (s *Server) responsesWhole(in *inbound, j *job) {
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
	out, sum, reason, err := s.rewriteResponseBody(ctx, j, raw)
	if err != nil {
		if ctx.Err() == nil {
			correctionError(err).Write(in.w)
		}
		return
	}
	h := in.w.Header()
	copyHeader(h, ex.resp.Header)
	h.Del("Content-Length")
	h.Del("Content-Encoding")
	if out == nil {
		h.Set(headerSkipped, reason)
		h.Set(headerCorrected, "false")
		out = raw
	} else {
		sum.setHeaders(h)
	}
	h.Set("Content-Length", strconv.Itoa(len(out)))
	in.w.WriteHeader(http.StatusOK)
	_, _ = in.w.Write(out)
	s.record(j, upstreamMs, sum)
}

// rewriteResponseBody corrects every output_text part of a response body.
// It returns a nil body, and the reason, when nothing in it could be
// corrected: tools when the output holds a tool call, else no_text.
func (s *Server) rewriteResponseBody(ctx context.Context, j *job, raw []byte) ([]byte, summary, string, error) {
	var sum summary
	obj, err := wire.ParseObject(raw)
	if err != nil {
		return nil, sum, skipNoText, nil
	}
	outRaw, _ := obj.Get("output")
	output, err := wire.ParseArray(outRaw)
	if err != nil {
		return nil, sum, skipNoText, nil
	}
	keys, originals, ids, tools := textParts(output)
	if len(keys) == 0 {
		if tools {
			return nil, sum, skipTools, nil
		}
		return nil, sum, skipNoText, nil
	}
	outcomes := make([]correct.Outcome, len(keys))
	errs := make([]error, len(keys))
	var wg sync.WaitGroup
	for i := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outcomes[i], errs[i] = s.correctText(ctx, j, originals[i], nil)
		}()
	}
	wg.Wait()
	fx := fixes{}
	for i, k := range keys {
		if errs[i] != nil {
			return nil, sum, "", errs[i]
		}
		s.observeCtx(ctx, j.dec, outcomes[i])
		sum.add(outcomes[i])
		j.answers = append(j.answers, answerPair{originals[i], outcomes[i].Text})
		fx[k] = partFix{itemID: ids[i], text: outcomes[i].Text, original: originals[i]}
	}
	rep := newReport(j.dec.Mode, combine(outcomes), outputText(output), j.dec.IncludeOriginal)
	out, err := rewriteResponse(raw, fx, rep)
	return out, sum, "", err
}
