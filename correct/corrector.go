package correct

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"
)

// Corrector runs corrections against the configured backends. It is safe for
// concurrent use.
type Corrector struct {
	cfg       Config
	models    map[string]Model
	templates templateSet
	cache     Cache
	log       *slog.Logger
}

// Request describes one correction. Zero fields take the configured default.
type Request struct {
	Mode        string   // "off", "aligner" or "stream"; "off" returns the answer untouched
	Backend     string   // "local" or "remote"; default Config.Backend
	Template    string   // template name; default Config.Template (Align) or Config.StreamTemplate (Follow, Guide)
	Question    string   // the question, see Question
	Answer      string   // the upstream answer (Align only)
	Temperature *float32 // overrides Config.Sampling.Temperature
	TopP        *float32 // overrides Config.Sampling.TopP
	MaxTokens   int      // caps the tokens of one correction when > 0
	// AnswerTokens is the client's cap on the whole corrected answer (its
	// max_tokens) when > 0: over every sentence in stream mode. A
	// correction it cuts short sets Outcome.Cut.
	AnswerTokens int
	Budget       time.Duration // latency budget per correction (per sentence in stream); default from Config.Budget
	FailClosed   bool          // return a *FallbackError instead of the original text
	NoCache      bool          // neither read nor write the cache (outcome "bypass")
	// Route, when set, is part of the cache key, so that answers read from
	// different API routes (e.g. "/v1/responses") never share an entry.
	Route string
}

// Outcome is the result of a correction.
type Outcome struct {
	Text      string        // the corrected answer, or the original on fail-open fallback
	Corrected bool          // reports whether Text differs from the original
	Fallback  string        // "" or a Fallback* reason; in stream mode the first sentence's
	Partial   bool          // reports whether corrected pieces were emitted before a fallback (Align)
	Cache     string        // "hit", "miss", "bypass", "error", or "" without a cache; in stream mode "hit" only if every sentence hit
	Duration  time.Duration // wall time of the whole call
	TokensIn  int           // prompt tokens over all generations
	TokensOut int           // generated tokens over all generations
	Drafted   int           // reference tokens the backend drafted (speculative decoding)
	Accepted  int           // drafted tokens the model agreed with
	Sentences int           // sentences corrected or passed through (stream)
	Rounds    int           // upstream calls made (guide)
	Truncated bool          // reports whether guide stopped at max_rounds before the upstream ended
	Cut       bool          // reports whether Request.AnswerTokens cut the corrected answer short
}

// New returns a Corrector. models maps backend names ("local", "remote") to
// models; the default backend must be present. cache may be nil. cfg is
// defaulted and validated.
func New(cfg Config, models map[string]Model, cache Cache, logger *slog.Logger) (*Corrector, error) {
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	set, err := newTemplateSet(cfg.Templates)
	if err != nil {
		return nil, err
	}
	ms := make(map[string]Model, len(models))
	for name, m := range models {
		if m != nil {
			ms[normBackend(name)] = m
		}
	}
	if ms[cfg.Backend] == nil {
		return nil, fmt.Errorf("%w: default %q not provided (have %s)", ErrUnknownBackend, cfg.Backend, strings.Join(keys(ms), ", "))
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if err := resolveAuto(&cfg, ms[cfg.Backend], logger); err != nil {
		return nil, err
	}
	return &Corrector{cfg: cfg, models: ms, templates: set, cache: cache, log: logger}, nil
}

// resolveAuto replaces TemplateAuto in cfg by the templates PickTemplates
// gives for m, logging the choice, and checks the result.
func resolveAuto(cfg *Config, m Model, log *slog.Logger) error {
	if cfg.Template != TemplateAuto && cfg.StreamTemplate != TemplateAuto {
		return nil
	}
	aligner, stream, why := PickTemplates(m)
	if cfg.Template == TemplateAuto {
		cfg.Template = aligner
	}
	if cfg.StreamTemplate == TemplateAuto {
		cfg.StreamTemplate = stream
	}
	log.Info("correction templates picked", "template", cfg.Template, "stream_template", cfg.StreamTemplate, "backend", cfg.Backend, "reason", why)
	return cfg.Validate()
}

// Config returns the defaulted configuration the corrector runs with.
func (c *Corrector) Config() Config { return c.cfg }

// keys returns the sorted keys of m.
func keys(m map[string]Model) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Align corrects a whole answer with the Aligner template. onToken (may be
// nil) receives the corrected text in pieces as it is generated (cleaned:
// no leading space, no end marker), or at once on a cache hit. On fail-open
// fallback Outcome.Text is the original answer, and Outcome.Partial reports
// whether pieces had already been given to onToken. An error from onToken
// stops the generation and is returned as is; a cancelled ctx returns
// ctx.Err().
func (c *Corrector) Align(ctx context.Context, r Request, onToken func(string) error) (Outcome, error) {
	start := time.Now()
	out := Outcome{Text: r.Answer}
	if r.Mode == ModeOff || strings.TrimSpace(r.Answer) == "" {
		out.Duration = time.Since(start)
		return out, nil
	}
	j, err := c.newJob(r, ModeAligner, c.cfg.Budget.Aligner)
	if err != nil {
		return out, err
	}
	j.vars = promptVars{Question: r.Question, Answer: r.Answer}
	j.original = r.Answer
	j.answerCap = r.AnswerTokens
	j.onToken = onToken
	res := c.run(ctx, j)
	out = res.outcome(r.Answer)
	out.Duration = time.Since(start)
	return out, res.err
}

// newJob resolves the backend, template, parameters and budget of r.
func (c *Corrector) newJob(r Request, mode string, budget time.Duration) (job, error) {
	backend := normBackend(r.Backend)
	if backend == "" {
		backend = c.cfg.Backend
	}
	m := c.models[backend]
	if m == nil {
		return job{}, fmt.Errorf("%w: %q", ErrUnknownBackend, r.Backend)
	}
	name := r.Template
	if name == "" {
		name = c.cfg.Template
		if mode == ModeStream {
			name = c.cfg.StreamTemplate
		}
	}
	placeholder := "{answer}"
	if mode == ModeStream {
		placeholder = "{sentence}"
	}
	if err := c.templates.check(name, placeholder); err != nil {
		return job{}, fmt.Errorf("correct: %s mode: %w", mode, err)
	}
	t := c.templates[name]
	p := c.cfg.Sampling.params()
	if r.Temperature != nil {
		p.Temperature = *r.Temperature
	}
	if r.TopP != nil {
		p.TopP = *r.TopP
	}
	p.Stop = t.Stop
	if p.RepeatPenalty == 0 {
		p.RepeatPenalty = t.RepeatPenalty
	}
	maxCap := c.cfg.Sampling.MaxTokens
	if r.MaxTokens > 0 && (maxCap == 0 || r.MaxTokens < maxCap) {
		maxCap = r.MaxTokens
	}
	if r.Budget > 0 {
		budget = r.Budget
	}
	id := backend
	if idr, ok := m.(Identifier); ok {
		id = idr.ModelID()
	}
	return job{
		model: m, modelID: id, tmpl: t, mode: mode, params: p, maxCap: maxCap,
		budget: budget, failClosed: r.FailClosed, cache: c.cacheFor(r, p), route: r.Route,
		bypass: c.cache != nil && c.cacheFor(r, p) == nil,
	}, nil
}

// cacheFor returns the cache to use for r, nil when there is none or r
// bypasses it (NoCache, or sampling without cache_sampled).
func (c *Corrector) cacheFor(r Request, p Params) Cache {
	if c.cache == nil || r.NoCache || (p.Temperature > 0 && !c.cfg.CacheSampled) {
		return nil
	}
	return c.cache
}
