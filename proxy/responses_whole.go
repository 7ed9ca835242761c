package proxy

import (
	"context"
	"sync"

	"github.com/aligngate/aligngate/correct"
	"github.com/aligngate/aligngate/wire"
)

// responsesWhole serves a non-stream Responses request whose answer is
// corrected: the text of every output_text part of its message items is
// replaced, everything else is kept as the upstream sent it, and the
// report goes in a top-level "aligngate" member.
func (s *Server) responsesWhole(in *inbound, j *job) {
	s.serveWhole(in, j, true, s.rewriteResponseBody)
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
