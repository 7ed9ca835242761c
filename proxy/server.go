// Package proxy is aligngate's HTTP side: a Gin server that speaks the
// OpenAI API, routes each request to an upstream chosen by configuration,
// relays answers (streamed or whole) and hands the assistant's text to the
// corrector when a policy asks for it.
//
// It owns its configuration (Config: server, upstreams, timeouts), the
// mapping of every failure to an HTTP status, and the small interfaces it
// needs of its collaborators (Decider, Corrector, Recorder). It must not
// import config, llamacpp, llamacorrect or cache, nor link yzma, purego or
// go-redis: those are wired in by the command.
package proxy

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/aligngate/aligngate/policies"
	"github.com/aligngate/aligngate/telemetry"
	"github.com/aligngate/aligngate/wire"
)

// Options carries the collaborators of a Server. Zero values are usable.
type Options struct {
	// Logger receives one line per problem; nil discards.
	Logger *slog.Logger
	// Transport overrides the upstream transport built from the config.
	Transport http.RoundTripper
	// Policies decides each request's correction; nil corrects nothing.
	Policies Decider
	// Corrector corrects answers; nil passes every answer through with
	// X-Aligngate-Skipped: no_backend when a policy asked for correction.
	Corrector Corrector
	// Correction is what the proxy needs to know of the correction
	// settings (correct.Config's backend, drive and multi_turn).
	Correction CorrectionSettings
	// Recorder receives experiment records; nil records nothing.
	Recorder Recorder
	// RecordAll also records corrected-route requests that no experiment
	// enrolled (Experiment ""), for a recorder that shows recent traffic
	// (the dashboard), which passes only experiment records on to sinks.
	RecordAll bool
	// Telemetry observes requests; nil is telemetry.Nop().
	Telemetry *telemetry.Telemetry
	// Ready, when set, is asked by /readyz in addition to the upstreams.
	Ready func() error
	// CacheDegraded, when set, reports a failing cache store, which
	// /readyz shows as "cache":"degraded" while staying ready.
	CacheDegraded func() bool
	// UI, when set, serves /ui and everything under it (the dashboard).
	UI http.Handler
}

// Server is an aligngate proxy. It is safe for concurrent use.
type Server struct {
	cfg       *Config
	logger    *slog.Logger
	upstreams []*upstream
	transport http.RoundTripper
	// own is the transport New built (nil when Options gave one): Close
	// releases its idle connections.
	own       *http.Transport
	handler   http.Handler
	policies  Decider
	corrector Corrector
	settings  CorrectionSettings
	recorder  Recorder
	recordAll bool
	tel       *telemetry.Telemetry
	ready     func() error
	degraded  func() bool
	ui        http.Handler
}

// New builds a Server from a validated config.
func New(cfg *Config, opts Options) (*Server, error) {
	if cfg == nil {
		return nil, errors.New("proxy: nil config")
	}
	s := &Server{
		cfg: cfg, logger: opts.Logger, transport: opts.Transport, policies: opts.Policies,
		corrector: opts.Corrector, settings: opts.Correction, recorder: opts.Recorder, recordAll: opts.RecordAll, tel: opts.Telemetry, ready: opts.Ready, degraded: opts.CacheDegraded, ui: opts.UI,
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if s.tel == nil {
		s.tel = telemetry.Nop()
	}
	if s.policies == nil {
		s.policies = policies.NewEngine(nil)
	}
	for i, u := range cfg.Upstreams {
		up, err := newUpstream(u)
		if err != nil {
			return nil, fmt.Errorf("proxy: upstreams[%d]: %w", i, err)
		}
		s.upstreams = append(s.upstreams, up)
	}
	if len(s.upstreams) == 0 {
		return nil, errors.New("proxy: no upstream configured")
	}
	if s.transport == nil {
		s.own = newTransport(cfg.Timeouts)
		s.transport = s.own
	}
	s.handler = s.bodyDeadline(s.tel.Wrap(s.cleanPaths(s.routes())))
	return s, nil
}

// Close releases the idle upstream connections of the transport New built,
// whose reading goroutines would otherwise outlive the server. A transport
// given in Options is its owner's to close. Requests in flight are not
// affected; shut the http.Server down first.
func (s *Server) Close() error {
	if s.own != nil {
		s.own.CloseIdleConnections()
	}
	return nil
}

// Handler returns the HTTP handler serving every route.
func (s *Server) Handler() http.Handler { return s.handler }

// HTTPServer returns an http.Server for the configured listen address,
// with the server-side timeouts set.
func (s *Server) HTTPServer() *http.Server {
	return &http.Server{
		Addr:              s.cfg.Server.Listen,
		Handler:           s.handler,
		ReadHeaderTimeout: s.cfg.Server.ReadHeaderTimeout,
		IdleTimeout:       2 * s.cfg.Timeouts.Idle,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
	}
}

func (s *Server) routes() http.Handler {
	r := gin.New()
	r.RedirectTrailingSlash = false
	r.RedirectFixedPath = false
	r.HandleMethodNotAllowed = false
	r.ContextWithFallback = true
	r.Use(s.recover)
	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)
	r.GET("/metrics", gin.WrapH(s.tel.MetricsHandler()))
	r.Any("/v1/*path", s.v1)
	if s.ui != nil {
		r.Any("/ui", gin.WrapH(s.ui))
		r.Any("/ui/*path", gin.WrapH(s.ui))
	}
	r.NoRoute(func(c *gin.Context) {
		msg := fmt.Sprintf("Unknown request URL: %s %s.", c.Request.Method, c.Request.URL.Path)
		wire.NewError(http.StatusNotFound, wire.TypeInvalidRequest, "unknown_url", msg).Write(c.Writer)
	})
	return r
}

// ownPaths are aligngate's own endpoints, served as spelled.
var ownPaths = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true}

// cleanPaths cleans every other request path before routing, so a
// non-canonical spelling of a corrected route is routed (validated and
// corrected) as that route, and a path that would leave /v1/ is refused
// before anything reaches an upstream.
func (s *Server) cleanPaths(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if (ownPaths[r.URL.Path] && r.URL.RawPath == "") || s.servesUI(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		if err := cleanRequestPath(r); err != nil {
			s.refusePath(w, r, err)
			return
		}
		clean := r.URL.Path
		telemetry.Info(r.Context()).Update(func(i *telemetry.RequestInfo) { i.Route = clean })
		next.ServeHTTP(w, r)
	})
}

// servesUI reports whether p belongs to the mounted dashboard, which does
// its own routing and never reaches an upstream.
func (s *Server) servesUI(p string) bool {
	return s.ui != nil && (p == "/ui" || strings.HasPrefix(p, "/ui/"))
}

// refusePath answers a refused path with an OpenAI-shaped error.
func (s *Server) refusePath(w http.ResponseWriter, r *http.Request, err error) {
	var pe *pathError
	if !errors.As(err, &pe) {
		pe = &pathError{fault: faultInvalid, path: r.URL.EscapedPath()}
	}
	msg := "Invalid request path."
	if pe.fault == faultNotV1 {
		msg = fmt.Sprintf("Unknown request URL: %s %s.", r.Method, r.URL.Path)
	} else {
		s.logger.Warn("refused request path", "path", pe.path, "fault", string(pe.fault))
	}
	wire.NewError(pe.status(), wire.TypeInvalidRequest, string(pe.fault), msg).Write(w)
}

// v1 dispatches the OpenAI API: chat completions and Responses are
// handled, completions validated and forwarded, the model list is merged
// across upstreams, protocol upgrades (WebSocket) are proxied, every other
// /v1 path is forwarded as is.
func (s *Server) v1(c *gin.Context) {
	in := newInbound(c)
	if in.req.Method == http.MethodGet && isUpgrade(in.req.Header) {
		s.upgrade(in)
		return
	}
	if in.req.Method == http.MethodGet && in.suffix == "/models" {
		s.models(in)
		return
	}
	if in.req.Method == http.MethodPost {
		switch in.suffix {
		case "/chat/completions":
			s.chat(in)
			return
		case "/completions":
			s.completions(in)
			return
		case "/responses":
			s.responses(in)
			return
		}
	}
	s.passthrough(in)
}

// recover turns a panic in a handler into a logged 500, as OpenAI shapes it.
// http.ErrAbortHandler is re-raised: it asks net/http to drop the connection.
func (s *Server) recover(c *gin.Context) {
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		if v == http.ErrAbortHandler { //nolint:errorlint // sentinel compared as net/http does
			panic(v)
		}
		s.logger.Error("panic in handler", "panic", fmt.Sprint(v), "path", c.Request.URL.Path)
		if !c.Writer.Written() {
			wire.NewError(http.StatusInternalServerError, wire.TypeServer, "internal_error",
				"The server had an error while processing your request.").Write(c.Writer)
		}
		c.Abort()
	}()
	c.Next()
}

func (s *Server) healthz(c *gin.Context) {
	c.Header("Content-Type", "application/json")
	c.String(http.StatusOK, `{"status":"ok"}`)
}

func (s *Server) readyz(c *gin.Context) {
	c.Header("Content-Type", "application/json")
	if s.ready != nil {
		if err := s.ready(); err != nil {
			b, _ := json.Marshal(map[string]string{"status": "not ready", "reason": err.Error()})
			c.String(http.StatusServiceUnavailable, string(b))
			return
		}
	}
	if s.degraded != nil && s.degraded() {
		// The cache fails open: still ready, but say so.
		c.String(http.StatusOK, `{"status":"ready","cache":"degraded"}`)
		return
	}
	c.String(http.StatusOK, `{"status":"ready"}`)
}
