package proxy

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/aligngate/aligngate/correct"
	"github.com/aligngate/aligngate/wire"
)

// chat serves POST /v1/chat/completions: a passthrough unless the policy
// asks for correction and the answer can be corrected.
func (s *Server) chat(c *gin.Context) {
	body, rt, ok := s.readRouted(c, true)
	if !ok {
		return
	}
	up := s.pick(rt.Model.Value)
	d := s.decide(c, rt)
	if d.Mode == correct.ModeOff || d.Mode == "" {
		s.forward(c, up, body)
		if d.Experiment != "" {
			s.record(&job{model: rt.Model.Value, dec: d}, 0, summary{})
		}
		return
	}
	j := &job{up: up, body: body, model: rt.Model.Value, dec: d}
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
func (s *Server) skip(rt wire.Routing, j *job) string {
	if s.corrector == nil {
		return skipNoModel
	}
	if err := json.Unmarshal(j.body, &j.req); err != nil {
		return skipNoText
	}
	if r := skipReason(&j.req, rt.Stream && j.dec.Mode == correct.ModeStream); r != "" {
		return r
	}
	j.question = correct.Question(turns(&j.req), s.settings.MultiTurn)
	return ""
}

// completions serves POST /v1/completions.
func (s *Server) completions(c *gin.Context) {
	body, rt, ok := s.readRouted(c, false)
	if !ok {
		return
	}
	s.forward(c, s.pick(rt.Model.Value), body)
}

// readRouted reads and validates a completion request; on failure it has
// already answered the client.
func (s *Server) readRouted(c *gin.Context, needMessages bool) ([]byte, wire.Routing, bool) {
	body, werr := readBody(c.Writer, c.Request, s.cfg.Server.MaxBodyBytes)
	if werr != nil {
		werr.Write(c.Writer)
		return nil, wire.Routing{}, false
	}
	rt, err := wire.ParseRouting(body)
	if err != nil {
		invalidJSON(err).Write(c.Writer)
		return nil, rt, false
	}
	if werr := validateRouting(rt, needMessages); werr != nil {
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
			if rt, err := wire.ParseRouting(body); err == nil {
				model = rt.Model.Value
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
	return s.settings.Drive
}
