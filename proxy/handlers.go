package proxy

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/aligngate/aligngate/correct"
)

// chat serves POST /v1/chat/completions: a passthrough unless the policy
// asks for correction and the answer can be corrected.
func (s *Server) chat(c *gin.Context) {
	body, rt, ok := s.readRouted(c, true)
	if !ok {
		return
	}
	up := s.pick(rt.Model.value)
	d := s.decide(c, rt)
	if d.Mode == correct.ModeOff || d.Mode == "" {
		s.forward(c, up, body)
		if d.Experiment != "" {
			s.record(&job{model: rt.Model.value, dec: d}, 0, summary{})
		}
		return
	}
	j := &job{up: up, body: body, model: rt.Model.value, dec: d}
	if reason := s.skip(rt, j); reason != "" {
		c.Header(headerSkipped, reason)
		c.Header(headerCorrected, "false")
		s.forward(c, up, body)
		return
	}
	switch {
	case d.Mode == correct.ModeStream && s.drive(up) == correct.DriveGuide:
		s.guide(c, j, rt.Stream)
	case !rt.Stream:
		s.correctWhole(c, j)
	case d.Mode == correct.ModeStream:
		s.followStream(c, j)
	default:
		s.alignStream(c, j)
	}
}

// skip parses what correction needs and reports why the answer must pass
// through untouched, or "".
func (s *Server) skip(rt routing, j *job) string {
	if s.corrector == nil {
		return skipNoModel
	}
	if err := json.Unmarshal(j.body, &j.req); err != nil {
		return skipNoText
	}
	if r := j.req.skipReason(rt.Stream && j.dec.Mode == correct.ModeStream); r != "" {
		return r
	}
	j.question = correct.Question(j.req.turns(), s.corrector.Config().MultiTurn)
	return ""
}

// completions serves POST /v1/completions.
func (s *Server) completions(c *gin.Context) {
	body, rt, ok := s.readRouted(c, false)
	if !ok {
		return
	}
	s.forward(c, s.pick(rt.Model.value), body)
}

// readRouted reads and validates a completion request; on failure it has
// already answered the client.
func (s *Server) readRouted(c *gin.Context, needMessages bool) ([]byte, routing, bool) {
	body, werr := readBody(c.Writer, c.Request, s.cfg.Server.MaxBodyBytes)
	if werr != nil {
		werr.Write(c.Writer)
		return nil, routing{}, false
	}
	rt, err := parseRouting(body)
	if err != nil {
		invalidJSON(err).Write(c.Writer)
		return nil, rt, false
	}
	if werr := rt.validate(needMessages); werr != nil {
		werr.Write(c.Writer)
		return nil, rt, false
	}
	return body, rt, true
}

// passthrough forwards any other /v1 request unchanged. A JSON body's model
// still picks the upstream.
func (s *Server) passthrough(c *gin.Context) {
	var body []byte
	model := ""
	if c.Request.Body != nil && c.Request.ContentLength != 0 && c.Request.Method != http.MethodGet {
		b, werr := readBody(c.Writer, c.Request, s.cfg.Server.MaxBodyBytes)
		if werr != nil {
			werr.Write(c.Writer)
			return
		}
		body = b
		if strings.HasPrefix(c.GetHeader("Content-Type"), "application/json") {
			if rt, err := parseRouting(body); err == nil {
				model = rt.Model.value
			}
		}
	}
	s.forward(c, s.pick(model), body)
}

// forward sends the request upstream and relays the answer untouched.
func (s *Server) forward(c *gin.Context, up *upstream, body []byte) {
	ctx := c.Request.Context()
	ex, err := s.do(ctx, s.callFor(c, up, body))
	if err != nil {
		s.fail(c, err)
		return
	}
	defer ex.Close()
	s.relay(c.Writer, ex)
}

func (s *Server) callFor(c *gin.Context, up *upstream, body []byte) call {
	return call{
		up:      up,
		method:  c.Request.Method,
		suffix:  c.Param("path"),
		query:   c.Request.URL.RawQuery,
		header:  c.Request.Header,
		body:    body,
		timeout: s.cfg.Timeouts,
	}
}

// fail answers a request whose upstream call failed before any byte was sent.
func (s *Server) fail(c *gin.Context, err error) {
	werr := upstreamError(c.Request.Context(), err)
	if werr.Status == statusClientClosed {
		s.logger.Debug("client left before the upstream answered", "path", c.Request.URL.Path)
		return
	}
	s.logger.Warn("upstream call failed", "path", c.Request.URL.Path, "status", werr.Status, "err", err)
	werr.Write(c.Writer)
}

// drive is how stream mode drives an upstream: its own setting, else
// correct.drive.
func (s *Server) drive(up *upstream) string {
	if up.drive != "" {
		return up.drive
	}
	return s.corrector.Config().Drive
}
