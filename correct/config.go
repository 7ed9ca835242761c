package correct

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Backend names, the keys of the models map given to New.
const (
	BackendLocal  = "local"
	BackendRemote = "remote"
)

// Ways of driving the upstream in stream mode.
const (
	DriveFollow = "follow" // upstream generates freely; sentences corrected as they arrive
	DriveGuide  = "guide"  // upstream asked for one sentence at a time after the corrected prefix
)

// Modes of Request.Mode.
const (
	ModeOff     = "off"
	ModeAligner = "aligner"
	ModeStream  = "stream"
)

// Config is the `correct:` section of the configuration.
type Config struct {
	// Backend is the default backend: "local" (in-process llama.cpp) or
	// "remote" (OpenAI-compatible /v1/completions). Default "local".
	Backend string `yaml:"backend"`
	// Drive is how stream mode drives the upstream: "follow" or "guide".
	// Default "follow". Read by the proxy to choose Follow or Guide.
	Drive string `yaml:"drive"`
	// Template names the Aligner prompt template, or "auto" (the default):
	// picked for the default backend's model by PickTemplates.
	Template string `yaml:"template"`
	// StreamTemplate names the Stream Aligner prompt template, or "auto"
	// (the default), as Template.
	StreamTemplate string `yaml:"stream_template"`
	// Templates adds templates or overrides built-in ones by name.
	Templates []Template `yaml:"templates"`
	// MultiTurn serialises earlier turns into the question (see Question).
	// Default false: the question is the last user message.
	MultiTurn bool `yaml:"multi_turn"`
	// Budget is the latency budget of one correction.
	Budget Budget `yaml:"budget"`
	// MaxRounds bounds the upstream calls of guide mode. Default 32.
	MaxRounds int `yaml:"max_rounds"`
	// Remote configures the remote backend.
	Remote RemoteConfig `yaml:"remote"`
	// Sampling sets the generation parameters. Default greedy (temperature
	// 0), which is deterministic and therefore cacheable.
	Sampling Sampling `yaml:"sampling"`
	// CacheSampled caches corrections even when temperature > 0. Default
	// false: sampled corrections bypass the cache.
	CacheSampled bool `yaml:"cache_sampled"`
	// AlignerStreamKeepalive: in aligner mode a streaming client gets the
	// role chunk as soon as the upstream starts answering, and an SSE
	// comment every AlignerStreamKeepaliveEvery while the upstream answer
	// is collected, so that a client's first-byte or idle timeout does not
	// fire before the correction streams. Default true. Read by the proxy.
	AlignerStreamKeepalive *bool `yaml:"aligner_stream_keepalive"`
	// AlignerStreamKeepaliveEvery is the interval of those comments.
	// Default 5s.
	AlignerStreamKeepaliveEvery time.Duration `yaml:"aligner_stream_keepalive_every"`
}

// KeepaliveEvery is the keep-alive interval of aligner-mode streams, or 0
// when AlignerStreamKeepalive is off.
func (c *Config) KeepaliveEvery() time.Duration {
	if c.AlignerStreamKeepalive != nil && !*c.AlignerStreamKeepalive {
		return 0
	}
	if c.AlignerStreamKeepaliveEvery <= 0 {
		return DefaultKeepaliveEvery
	}
	return c.AlignerStreamKeepaliveEvery
}

// Budget holds latency budgets per mode.
type Budget struct {
	// Aligner bounds a whole-answer correction. Default 30s.
	Aligner time.Duration `yaml:"aligner"`
	// Stream bounds the correction of one sentence. Default 10s.
	Stream time.Duration `yaml:"stream"`
	// Answer bounds all the stream-mode corrections of one answer
	// together (follow and guide, streamed or not); past it the rest of
	// the answer passes uncorrected (fallback "budget"), or fail-closed
	// fails. Default 60s.
	Answer time.Duration `yaml:"answer"`
}

// Sampling holds generation parameters; zero values mean the backend default
// (and temperature 0 means greedy).
type Sampling struct {
	Temperature      float32 `yaml:"temperature"`
	TopK             int     `yaml:"top_k"`
	TopP             float32 `yaml:"top_p"`
	MinP             float32 `yaml:"min_p"`
	RepeatPenalty    float32 `yaml:"repeat_penalty"`
	FrequencyPenalty float32 `yaml:"frequency_penalty"`
	Seed             uint32  `yaml:"seed"`
	// MaxTokens caps the tokens of one correction. Default 0: bounded only by
	// the answer length (2 x its tokens + 128) and the model context.
	MaxTokens int `yaml:"max_tokens"`
}

// RemoteConfig configures the remote backend.
type RemoteConfig struct {
	// BaseURL of the OpenAI-compatible server, with or without the
	// trailing /v1 (e.g. "http://127.0.0.1:8080/v1"). Required when the
	// remote backend is used.
	BaseURL string `yaml:"base_url"`
	// APIKey is sent as "Authorization: Bearer <key>" when not empty.
	APIKey string `yaml:"api_key"`
	// Model is the model name sent in requests. Default: the one model the
	// server's GET /v1/models lists, asked at start (start fails when it
	// lists none or several).
	Model string `yaml:"model"`
	// Timeout bounds one request, on top of the correction budget.
	// Default 60s.
	Timeout time.Duration `yaml:"timeout"`
}

// Defaults, documented on the fields above.
const (
	DefaultAlignerBudget  = 30 * time.Second
	DefaultStreamBudget   = 10 * time.Second
	DefaultAnswerBudget   = 60 * time.Second
	DefaultMaxRounds      = 32
	DefaultRemoteTimeout  = 60 * time.Second
	DefaultKeepaliveEvery = 5 * time.Second
)

// SetDefaults fills zero fields with their defaults.
func (c *Config) SetDefaults() {
	if c.Backend == "" {
		c.Backend = BackendLocal
	}
	if c.Drive == "" {
		c.Drive = DriveFollow
	}
	if c.Template == "" {
		c.Template = TemplateAuto
	}
	if c.StreamTemplate == "" {
		c.StreamTemplate = TemplateAuto
	}
	if c.Budget.Aligner <= 0 {
		c.Budget.Aligner = DefaultAlignerBudget
	}
	if c.Budget.Stream <= 0 {
		c.Budget.Stream = DefaultStreamBudget
	}
	if c.Budget.Answer <= 0 {
		c.Budget.Answer = DefaultAnswerBudget
	}
	if c.MaxRounds <= 0 {
		c.MaxRounds = DefaultMaxRounds
	}
	if c.AlignerStreamKeepalive == nil {
		on := true
		c.AlignerStreamKeepalive = &on
	}
	if c.AlignerStreamKeepaliveEvery <= 0 {
		c.AlignerStreamKeepaliveEvery = DefaultKeepaliveEvery
	}
	c.Remote.SetDefaults()
}

// SetDefaults fills zero fields with their defaults.
func (r *RemoteConfig) SetDefaults() {
	if r.Timeout <= 0 {
		r.Timeout = DefaultRemoteTimeout
	}
}

// Validate reports the first invalid setting. Call SetDefaults first.
func (c *Config) Validate() error {
	if c.Backend != BackendLocal && c.Backend != BackendRemote {
		return fmt.Errorf("correct: backend %q: want local or remote", c.Backend)
	}
	if c.Drive != DriveFollow && c.Drive != DriveGuide {
		return fmt.Errorf("correct: drive %q: want follow or guide", c.Drive)
	}
	if c.Budget.Aligner < 0 || c.Budget.Stream < 0 || c.Budget.Answer < 0 || c.MaxRounds < 0 {
		return errors.New("correct: budgets and max_rounds must not be negative")
	}
	if c.Sampling.Temperature < 0 || c.Sampling.MaxTokens < 0 {
		return errors.New("correct: sampling temperature and max_tokens must not be negative")
	}
	set, err := newTemplateSet(c.Templates)
	if err != nil {
		return err
	}
	if c.Template != TemplateAuto {
		if err := set.check(c.Template, "{answer}"); err != nil {
			return fmt.Errorf("correct: template: %w", err)
		}
	}
	if c.StreamTemplate != TemplateAuto {
		if err := set.check(c.StreamTemplate, "{sentence}"); err != nil {
			return fmt.Errorf("correct: stream_template: %w", err)
		}
	}
	if c.Backend == BackendRemote {
		return c.Remote.Validate()
	}
	return nil
}

// Validate reports whether the remote settings are usable. An empty Model
// is valid: the caller asks the server with DiscoverModel.
func (r *RemoteConfig) Validate() error {
	if r.BaseURL == "" {
		return errors.New("correct: remote needs base_url")
	}
	u, err := url.Parse(r.BaseURL)
	if err != nil {
		return fmt.Errorf("correct: remote base_url: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("correct: remote base_url %q: want http(s)://host[/v1]", r.BaseURL)
	}
	return nil
}

// Redacted returns a copy safe to log: the API key is masked.
func (c Config) Redacted() Config {
	if c.Remote.APIKey != "" {
		c.Remote.APIKey = "REDACTED"
	}
	c.Templates = append([]Template(nil), c.Templates...)
	return c
}

// params turns the sampling settings into generation parameters.
func (s Sampling) params() Params {
	return Params{
		Temperature:      s.Temperature,
		TopK:             s.TopK,
		TopP:             s.TopP,
		MinP:             s.MinP,
		RepeatPenalty:    s.RepeatPenalty,
		FrequencyPenalty: s.FrequencyPenalty,
		Seed:             s.Seed,
	}
}

// normBackend lower-cases and trims a backend name.
func normBackend(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// CheckTemplate reports whether the template name (a built-in or one of
// Templates) exists and suits mode: Aligner templates need {answer},
// Stream Aligner ones {sentence}; for mode off only the name is checked.
func (c *Config) CheckTemplate(name, mode string) error {
	set, err := newTemplateSet(c.Templates)
	if err != nil {
		return err
	}
	switch mode {
	case ModeAligner:
		return set.check(name, "{answer}")
	case ModeStream:
		return set.check(name, "{sentence}")
	}
	return set.check(name, "")
}
