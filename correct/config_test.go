package correct

import (
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
)

func TestConfigYAML(t *testing.T) {
	src := `
backend: remote
drive: guide
template: aligner-v1-correction
stream_template: mine
multi_turn: true
budget:
  aligner: 5s
  stream: 750ms
max_rounds: 8
remote:
  base_url: http://127.0.0.1:8080/v1
  api_key: sk-secret
  model: aligner
  timeout: 20s
sampling:
  temperature: 0.5
  top_p: 0.9
  max_tokens: 256
cache_sampled: true
templates:
  - name: mine
    text: "S: {sentence}"
    stop: ["<end_of_turn>"]
    chat: gemma
`
	var cfg Config
	if err := yaml.Unmarshal([]byte(src), &cfg); err != nil {
		t.Fatal(err)
	}
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.Budget.Aligner != 5*time.Second || cfg.Budget.Stream != 750*time.Millisecond || cfg.Remote.Timeout != 20*time.Second {
		t.Errorf("durations %+v %v", cfg.Budget, cfg.Remote.Timeout)
	}
	if cfg.Backend != BackendRemote || cfg.Drive != DriveGuide || !cfg.MultiTurn || cfg.MaxRounds != 8 || !cfg.CacheSampled ||
		cfg.Sampling.Temperature != 0.5 || cfg.Sampling.MaxTokens != 256 || len(cfg.Templates) != 1 || cfg.Templates[0].Chat != ChatGemma {
		t.Errorf("config %+v", cfg)
	}
	if r := cfg.Redacted(); r.Remote.APIKey == "sk-secret" || cfg.Remote.APIKey != "sk-secret" {
		t.Errorf("Redacted: %q (original %q)", r.Remote.APIKey, cfg.Remote.APIKey)
	}
}

func TestConfigDefaults(t *testing.T) {
	var cfg Config
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	want := Config{
		Backend: BackendLocal, Drive: DriveFollow, Template: TemplateAuto, StreamTemplate: TemplateAuto,
		Budget: Budget{Aligner: DefaultAlignerBudget, Stream: DefaultStreamBudget, Answer: DefaultAnswerBudget}, MaxRounds: DefaultMaxRounds,
		Remote: RemoteConfig{Timeout: DefaultRemoteTimeout},
	}
	if cfg.Backend != want.Backend || cfg.Drive != want.Drive || cfg.Template != want.Template || cfg.StreamTemplate != want.StreamTemplate ||
		cfg.Budget != want.Budget || cfg.MaxRounds != want.MaxRounds || cfg.Remote.Timeout != want.Remote.Timeout {
		t.Errorf("defaults %+v", cfg)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"backend", func(c *Config) { c.Backend = "gpu" }, "backend"},
		{"drive", func(c *Config) { c.Drive = "push" }, "drive"},
		{"unknown template", func(c *Config) { c.Template = "nope" }, "unknown template"},
		{"aligner template without answer", func(c *Config) {
			c.Templates = []Template{{Name: "x", Text: "{sentence}"}}
			c.Template = "x"
		}, "{answer}"},
		{"stream template without sentence", func(c *Config) { c.StreamTemplate = TemplateAlignerV1 }, "{sentence}"},
		{"remote without url", func(c *Config) { c.Backend = BackendRemote }, "base_url"},
		{"negative temperature", func(c *Config) { c.Sampling.Temperature = -1 }, "temperature"},
		{"bad chat", func(c *Config) { c.Templates = []Template{{Name: "x", Text: "y", Chat: "zz"}} }, "chat"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cfg Config
			cfg.SetDefaults()
			tt.mod(&cfg)
			err := cfg.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestNewNeedsDefaultBackend(t *testing.T) {
	if _, err := New(Config{}, map[string]Model{BackendRemote: &fakeModel{by: upper}}, nil, nil); err == nil {
		t.Error("New accepted a config whose default backend is missing")
	}
}
