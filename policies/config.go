package policies

import (
	"net/url"
	"time"
)

// Mode values for [Action.Mode] and [Decision.Mode].
const (
	ModeOff     = "off"     // pass the upstream answer through untouched
	ModeAligner = "aligner" // correct the finished answer (Aligner)
	ModeStream  = "stream"  // correct sentence by sentence while streaming (Stream Aligner)
)

// Backend values for [Action.Backend].
const (
	BackendLocal  = "local"  // in-process llama.cpp
	BackendRemote = "remote" // OpenAI-compatible /v1/completions server
)

// Fail values for [Action.Fail].
const (
	FailOpen   = "open"   // on correction failure, return the original answer
	FailClosed = "closed" // on correction failure, return an error
)

// Unit values for [Experiment.Unit].
const (
	UnitUser      = "user"       // the request's `user` field
	UnitClientKey = "client_key" // the client's bearer key (hashed)
	UnitHeader    = "header"     // the value of the header named by UnitHeader
)

// Sink values for [RecordsConfig.Sink].
const (
	SinkFile  = "file"  // JSONL file rotated by size
	SinkRedis = "redis" // Redis stream (XADD MAXLEN ~)
	SinkOff   = "off"   // records are discarded
)

// Config is the `policies:` section of the aligngate configuration.
type Config struct {
	// Default is the action used when no rule matches; fields it leaves
	// unset take the built-in defaults (mode off, fail open, cache on,
	// include_original off, allow_mode_header off).
	Default Action `yaml:"default"`
	// Rules are evaluated in order; the first whose match fits wins and its
	// set fields overlay Default.
	Rules []Rule `yaml:"rules"`
	// Experiments are A/B tests; a request is enrolled in at most one, the
	// first (in order) whose match fits and whose unit the request carries.
	Experiments []Experiment `yaml:"experiments"`
	// Records configures where experiment records go.
	Records RecordsConfig `yaml:"records"`
}

// Action is what to do with a request. Every field is optional: an unset
// field (empty string or nil) inherits from the action below it.
type Action struct {
	// Mode is off, aligner or stream. Built-in default: off.
	Mode string `yaml:"mode,omitempty"`
	// Backend is local or remote. Default "": the correct.backend setting.
	Backend string `yaml:"backend,omitempty"`
	// Template names the prompt template. Default "": correct.template.
	Template string `yaml:"template,omitempty"`
	// Temperature for the correction model, in [0, 2]. Default: backend's.
	Temperature *float32 `yaml:"temperature,omitempty"`
	// TopP for the correction model, in (0, 1]. Default: backend's.
	TopP *float32 `yaml:"top_p,omitempty"`
	// MaxTokens caps the correction's length; 0 means the backend default.
	MaxTokens *int `yaml:"max_tokens,omitempty"`
	// Budget is the latency budget for the correction, e.g. "2s"; 0 means
	// no budget beyond the request timeouts.
	Budget *time.Duration `yaml:"budget,omitempty"`
	// Fail is open (serve the original on failure) or closed (fail the
	// request). Built-in default: open.
	Fail string `yaml:"fail,omitempty"`
	// Cache reports whether corrections may be served from and stored in
	// the cache. Built-in default: true.
	Cache *bool `yaml:"cache,omitempty"`
	// IncludeOriginal reports whether the response carries the original
	// answer next to the corrected one. Built-in default: false.
	IncludeOriginal *bool `yaml:"include_original,omitempty"`
	// AllowModeHeader reports whether the client may pick the mode with the
	// X-Aligngate-Mode header. Built-in default: false (multi-tenant safe).
	AllowModeHeader *bool `yaml:"allow_mode_header,omitempty"`
}

// Rule applies Action to requests that fit Match.
type Rule struct {
	// Name identifies the rule in decisions, logs and metrics. Default:
	// "rules[i]".
	Name string `yaml:"name,omitempty"`
	// Match selects the requests; an empty match fits every request.
	Match Match `yaml:"match"`
	// Action overlays the default action.
	Action Action `yaml:"action"`
}

// Match selects requests. Every criterion that is set must fit (AND);
// within a list, any element may fit (OR). An empty Match fits everything.
// Globs support `*` (any run of characters, `/` included), `?` (one
// character), `[abc]`, `[a-z]`, `[^a-z]` and `\` escapes.
type Match struct {
	// Model is a glob on the requested model name.
	Model string `yaml:"model,omitempty"`
	// Route is a glob on the request path, e.g. "/v1/chat/completions".
	Route string `yaml:"route,omitempty"`
	// ClientKeys are lowercase hex SHA-256 digests of client bearer keys;
	// keys are never stored in clear. `printf %s KEY | sha256sum`.
	ClientKeys []string `yaml:"client_keys,omitempty"`
	// Users are exact values of the request's `user` field.
	Users []string `yaml:"users,omitempty"`
	// Headers maps a header name to a glob its value must fit.
	Headers map[string]string `yaml:"headers,omitempty"`
	// Metadata maps a key of the request's `metadata` object to a glob its
	// value must fit.
	Metadata map[string]string `yaml:"metadata,omitempty"`
}

// Experiment is an A/B test: enrolled requests get the action of one arm,
// chosen by a stable hash of the experiment name and the unit.
type Experiment struct {
	// Name identifies the experiment; it seeds the assignment hash, so
	// renaming an experiment reshuffles every unit.
	Name string `yaml:"name"`
	// Match scopes the experiment; empty means every request.
	Match Match `yaml:"match"`
	// Unit is what is assigned: user, client_key or header.
	Unit string `yaml:"unit"`
	// UnitHeader names the header when Unit is header.
	UnitHeader string `yaml:"unit_header,omitempty"`
	// Arms are laid on [0,1) in this order with lengths proportional to
	// their weights.
	Arms []Arm `yaml:"arms"`
	// CaptureContent reports whether records keep the question and both
	// answers. Default false: only metadata is recorded.
	CaptureContent bool `yaml:"capture_content,omitempty"`
}

// Arm is one branch of an experiment.
type Arm struct {
	// Name is returned in X-Aligngate-Arm and written in records.
	Name string `yaml:"name"`
	// Weight is the arm's share relative to the other arms' weights (any
	// non-negative scale: 50/50, 0.9/0.1 ...).
	Weight float64 `yaml:"weight"`
	// Action overlays the action the rules resolved.
	Action Action `yaml:"action"`
}

// RecordsConfig configures the experiment record sink.
type RecordsConfig struct {
	// Sink is file, redis or off. Default: file.
	Sink string `yaml:"sink,omitempty"`
	// Path is the JSONL file for the file sink. Default:
	// "aligngate-records.jsonl".
	Path string `yaml:"path,omitempty"`
	// MaxBytes rotates the file when a write would exceed it. Default:
	// 104857600 (100 MiB).
	MaxBytes int64 `yaml:"max_bytes,omitempty"`
	// MaxBackups is how many rotated files (.1 newest ... .N oldest) are
	// kept. Default: 5.
	MaxBackups int `yaml:"max_backups,omitempty"`
	// RedisURL is the redis:// URL for the redis sink.
	RedisURL string `yaml:"redis_url,omitempty"`
	// Stream is the Redis stream key. Default: "aligngate:records".
	Stream string `yaml:"stream,omitempty"`
	// MaxLen trims the stream approximately (MAXLEN ~). Default: 1000000.
	MaxLen int64 `yaml:"max_len,omitempty"`
	// Buffer is how many records may wait for the writer before new ones
	// are dropped. Default: 4096.
	Buffer int `yaml:"buffer,omitempty"`
}

// Defaults of [RecordsConfig].
const (
	DefaultRecordsPath   = "aligngate-records.jsonl"
	DefaultRecordsStream = "aligngate:records"
	DefaultMaxBytes      = 100 << 20
	DefaultMaxBackups    = 5
	DefaultMaxLen        = 1_000_000
	DefaultBuffer        = 4096
)

// SetDefaults fills the built-in defaults into the default action and the
// records section. It is idempotent.
func (c *Config) SetDefaults() {
	d := &c.Default
	if d.Mode == "" {
		d.Mode = ModeOff
	}
	if d.Fail == "" {
		d.Fail = FailOpen
	}
	if d.Cache == nil {
		d.Cache = ptr(true)
	}
	if d.IncludeOriginal == nil {
		d.IncludeOriginal = ptr(false)
	}
	if d.AllowModeHeader == nil {
		d.AllowModeHeader = ptr(false)
	}
	for i := range c.Rules {
		if c.Rules[i].Name == "" {
			c.Rules[i].Name = ruleName(i)
		}
	}
	c.Records.setDefaults()
}

func (r *RecordsConfig) setDefaults() {
	setIf(&r.Sink, SinkFile)
	setIf(&r.Path, DefaultRecordsPath)
	setIf(&r.Stream, DefaultRecordsStream)
	setIf(&r.MaxBytes, DefaultMaxBytes)
	setIf(&r.MaxBackups, DefaultMaxBackups)
	setIf(&r.MaxLen, DefaultMaxLen)
	setIf(&r.Buffer, DefaultBuffer)
}

func setIf[T comparable](p *T, v T) {
	var zero T
	if *p == zero {
		*p = v
	}
}

func ptr[T any](v T) *T { return &v }

// Redacted returns a copy safe to log: the password of the records Redis
// URL is masked. Client keys are digests already.
func (c Config) Redacted() Config {
	c.Records.RedisURL = redactURL(c.Records.RedisURL)
	return c
}

func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
