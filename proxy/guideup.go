package proxy

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aligngate/aligngate/correct"
	"github.com/aligngate/aligngate/wire"
)

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
	in       *inbound
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
	cl := g.s.callFor(g.in, g.j.up, body)
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
	case o.Truncated || o.Cut:
		r = "length"
	case g.finish != nil && *g.finish != "":
		r = *g.finish
	}
	return &r
}

// sentenceCut gathers the segments of one guide call up to its first
// sentence, or its first whole fenced code block, with the whitespace
// before it. Fences are the splitter's business: it marks the closing line.
type sentenceCut struct{ b strings.Builder }

// add appends segments. Unless all, it stops at the segment that completes
// the cut, drops the rest and reports true.
func (k *sentenceCut) add(segs []correct.Segment, all bool) bool {
	for _, seg := range segs {
		k.b.WriteString(seg.Text)
		complete := seg.Closes || !seg.Code && strings.TrimSpace(seg.Text) != ""
		if complete && !all {
			return true
		}
	}
	return false
}

func (k *sentenceCut) String() string { return k.b.String() }

var _ correct.Upstream = (*guideUpstream)(nil)
