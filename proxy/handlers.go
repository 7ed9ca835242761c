package proxy

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/aligngate/aligngate/correct"
	"github.com/aligngate/aligngate/wire"
)

// chat serves POST /v1/chat/completions: a passthrough unless the policy
// asks for correction and the answer can be corrected.
func (s *Server) chat(in *inbound) {
	body, rt, ok := s.readRouted(in, true)
	if !ok {
		return
	}
	up := s.pick(rt.Model.Value)
	d := s.decide(in, rt)
	if d.Mode == correct.ModeOff || d.Mode == "" {
		s.forward(in, up, body)
		if d.Experiment != "" {
			s.record(&job{model: rt.Model.Value, dec: d}, 0, summary{})
		}
		return
	}
	j := &job{up: up, body: body, model: rt.Model.Value, dec: d}
	reason, werr := s.skip(rt, j)
	if werr != nil {
		werr.Write(in.w)
		return
	}
	if reason != "" {
		in.setHeader(headerSkipped, reason)
		in.setHeader(headerCorrected, "false")
		s.forward(in, up, body)
		return
	}
	switch {
	case d.Mode == correct.ModeStream && s.drive(up) == correct.DriveGuide:
		s.guide(in, j, rt.Stream)
	case !rt.Stream:
		s.correctWhole(in, j)
	case d.Mode == correct.ModeStream:
		s.followStream(in, j)
	default:
		s.alignStream(in, j)
	}
}

// skip parses what correction needs and reports why the answer must pass
// through untouched, or "". A request whose fields correction reads have
// the wrong type is refused rather than passed through uncorrected: a
// lenient upstream may still serve it, and a policy that says "correct"
// must not be skippable by spelling a field oddly.
func (s *Server) skip(rt wire.Routing, j *job) (string, *wire.Error) {
	if s.corrector == nil {
		return skipNoModel, nil
	}
	if err := json.Unmarshal(j.body, &j.req); err != nil {
		return "", jsonError(err)
	}
	if r := skipReason(&j.req, rt.Stream && j.dec.Mode == correct.ModeStream); r != "" {
		return r, nil
	}
	j.question = correct.Question(turns(&j.req), s.settings.MultiTurn)
	return "", nil
}

// completions serves POST /v1/completions and /v1/responses: validated,
// then forwarded.
func (s *Server) completions(in *inbound) {
	body, rt, ok := s.readRouted(in, false)
	if !ok {
		return
	}
	s.forward(in, s.pick(rt.Model.Value), body)
}

// readRouted reads and validates a completion request; on failure it has
// already answered the client.
func (s *Server) readRouted(in *inbound, needMessages bool) ([]byte, wire.Routing, bool) {
	if werr := checkEncoding(in.req); werr != nil {
		werr.Write(in.w)
		return nil, wire.Routing{}, false
	}
	body, werr := readBody(in.w, in.req, s.cfg.Server.MaxBodyBytes)
	if werr != nil {
		werr.Write(in.w)
		return nil, wire.Routing{}, false
	}
	rt, err := wire.ParseRouting(body)
	if err != nil {
		jsonError(err).Write(in.w)
		return nil, rt, false
	}
	if werr := validateRouting(rt, needMessages); werr != nil {
		werr.Write(in.w)
		return nil, rt, false
	}
	return body, rt, true
}

// passthrough forwards any other /v1 request unchanged. A JSON body's model
// still picks the upstream.
func (s *Server) passthrough(in *inbound) {
	var body []byte
	model := ""
	if in.req.Body != nil && in.req.ContentLength != 0 && in.req.Method != http.MethodGet {
		b, werr := readBody(in.w, in.req, s.cfg.Server.MaxBodyBytes)
		if werr != nil {
			werr.Write(in.w)
			return
		}
		body = b
		if strings.HasPrefix(in.req.Header.Get("Content-Type"), "application/json") {
			if rt, err := wire.ParseRouting(body); err == nil {
				model = rt.Model.Value
			}
		}
	}
	s.forward(in, s.pick(model), body)
}

// forward sends the request upstream and relays the answer untouched.
func (s *Server) forward(in *inbound, up *upstream, body []byte) {
	ctx := in.ctx()
	ex, err := s.do(ctx, s.callFor(in, up, body))
	if err != nil {
		s.fail(in, err)
		return
	}
	defer ex.Close()
	s.relay(in.w, ex)
}

func (s *Server) callFor(in *inbound, up *upstream, body []byte) call {
	return call{
		up:      up,
		method:  in.req.Method,
		suffix:  in.suffix,
		query:   in.req.URL.RawQuery,
		header:  in.req.Header,
		body:    body,
		timeout: s.cfg.Timeouts,
	}
}

// fail answers a request whose upstream call failed before any byte was sent.
func (s *Server) fail(in *inbound, err error) {
	werr := upstreamError(in.ctx(), err)
	if werr.Status == statusClientClosed {
		s.logger.Debug("client left before the upstream answered", "path", in.req.URL.Path)
		return
	}
	s.logger.Warn("upstream call failed", "path", in.req.URL.Path, "status", werr.Status, "err", err)
	werr.Write(in.w)
}

// drive is how stream mode drives an upstream: its own setting, else
// correct.drive.
func (s *Server) drive(up *upstream) string {
	if up.drive != "" {
		return up.drive
	}
	return s.settings.Drive
}
