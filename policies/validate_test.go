package policies

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
)

func TestValidateNamesKeyAtFault(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Config)
		want string // prefix of one error line
	}{
		{"bad glob", func(c *Config) { c.Rules = append(c.Rules, Rule{}, Rule{}, Rule{Match: Match{Model: "["}}) },
			`policies.rules[2].match.model: bad glob "[": syntax error in glob`},
		{"bad mode", func(c *Config) { c.Default.Mode = "on" }, `policies.default.mode: invalid policy: "on" is not one of`},
		{"bad backend", func(c *Config) { c.Rules = []Rule{{Action: Action{Backend: "gpu"}}} }, `policies.rules[0].action.backend:`},
		{"bad fail", func(c *Config) { c.Rules = []Rule{{Action: Action{Fail: "maybe"}}} }, `policies.rules[0].action.fail:`},
		{"temperature", func(c *Config) { c.Default.Temperature = ptr(float32(3)) }, `policies.default.temperature:`},
		{"top_p", func(c *Config) { c.Default.TopP = ptr(float32(0)) }, `policies.default.top_p:`},
		{"max_tokens", func(c *Config) { c.Default.MaxTokens = ptr(-1) }, `policies.default.max_tokens:`},
		{"budget", func(c *Config) { c.Default.Budget = ptr(-time.Second) }, `policies.default.budget:`},
		{"clear key", func(c *Config) { c.Rules = []Rule{{Match: Match{ClientKeys: []string{"sk-live-123"}}}} },
			`policies.rules[0].match.client_keys[0]: invalid policy: not a lowercase hex SHA-256`},
		{"header glob", func(c *Config) { c.Rules = []Rule{{Match: Match{Headers: map[string]string{"X-A": "[z-a]"}}}} },
			`policies.rules[0].match.headers.X-A: bad glob`},
		{"metadata glob", func(c *Config) { c.Rules = []Rule{{Match: Match{Metadata: map[string]string{"k": "a\\"}}}} },
			`policies.rules[0].match.metadata.k: bad glob`},
		{"duplicate rule", func(c *Config) { c.Rules = []Rule{{Name: "a"}, {Name: "a"}} }, `policies.rules[1].name: invalid policy: duplicate`},
		{"experiment name", func(c *Config) { c.Experiments = []Experiment{{Unit: UnitUser, Arms: []Arm{{Name: "a", Weight: 1}}}} },
			`policies.experiments[0].name: invalid policy: required`},
		{"experiment unit", func(c *Config) {
			c.Experiments = []Experiment{{Name: "e", Unit: "ip", Arms: []Arm{{Name: "a", Weight: 1}}}}
		},
			`policies.experiments[0].unit:`},
		{"unit header", func(c *Config) {
			c.Experiments = []Experiment{{Name: "e", Unit: UnitHeader, Arms: []Arm{{Name: "a", Weight: 1}}}}
		},
			`policies.experiments[0].unit_header:`},
		{"no arms", func(c *Config) { c.Experiments = []Experiment{{Name: "e", Unit: UnitUser}} }, `policies.experiments[0].arms: invalid policy: at least one`},
		{"zero weights", func(c *Config) { c.Experiments = []Experiment{{Name: "e", Unit: UnitUser, Arms: []Arm{{Name: "a"}}}} },
			`policies.experiments[0].arms: invalid policy: weights`},
		{"negative weight", func(c *Config) {
			c.Experiments = []Experiment{{Name: "e", Unit: UnitUser, Arms: []Arm{{Name: "a", Weight: 1}, {Name: "b", Weight: -1}}}}
		}, `policies.experiments[0].arms[1].weight:`},
		{"duplicate arm", func(c *Config) {
			c.Experiments = []Experiment{{Name: "e", Unit: UnitUser, Arms: []Arm{{Name: "a", Weight: 1}, {Name: "a", Weight: 1}}}}
		}, `policies.experiments[0].arms[1].name: invalid policy: duplicate`},
		{"arm action", func(c *Config) {
			c.Experiments = []Experiment{{Name: "e", Unit: UnitUser, Arms: []Arm{{Name: "a", Weight: 1, Action: Action{Mode: "x"}}}}}
		}, `policies.experiments[0].arms[0].action.mode:`},
		{"sink", func(c *Config) { c.Records.Sink = "kafka" }, `policies.records.sink:`},
		{"redis url", func(c *Config) { c.Records.Sink = SinkRedis }, `policies.records.redis_url: invalid policy: required`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Config
			tt.mod(&c)
			c.SetDefaults()
			err := c.Validate()
			if err == nil {
				t.Fatal("Validate() = nil")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate() = %v\nwant a line starting %q", err, tt.want)
			}
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Errorf("error is not a *FieldError: %T", err)
			}
			if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrBadGlob) {
				t.Errorf("error wraps neither sentinel: %v", err)
			}
		})
	}
}

func TestValidateAcceptsGood(t *testing.T) {
	c := testConfig()
	c.Experiments = []Experiment{{Name: "e", Unit: UnitHeader, UnitHeader: "X-S", Arms: []Arm{{Name: "a", Weight: 1}}}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestSetDefaults(t *testing.T) {
	var c Config
	c.Rules = []Rule{{}, {Name: "named"}}
	c.SetDefaults()
	if c.Default.Mode != ModeOff || c.Default.Fail != FailOpen || !*c.Default.Cache || *c.Default.IncludeOriginal || *c.Default.AllowModeHeader {
		t.Errorf("default action: %+v", c.Default)
	}
	if c.Rules[0].Name != "rules[0]" || c.Rules[1].Name != "named" {
		t.Errorf("rule names: %q %q", c.Rules[0].Name, c.Rules[1].Name)
	}
	r := c.Records
	if r.Sink != SinkFile || r.Path != DefaultRecordsPath || r.MaxBytes != DefaultMaxBytes || r.MaxBackups != DefaultMaxBackups ||
		r.Stream != DefaultRecordsStream || r.MaxLen != DefaultMaxLen || r.Buffer != DefaultBuffer {
		t.Errorf("records: %+v", r)
	}
	before := c
	c.SetDefaults()
	if c.Default.Mode != before.Default.Mode || c.Records != before.Records {
		t.Error("SetDefaults is not idempotent")
	}
}

// TestExampleExperiment parses the shipped example's policies section the
// way the config loader does and checks that it is the promised 50/50
// user-assigned experiment.
func TestExampleExperiment(t *testing.T) {
	b, err := os.ReadFile("../examples/experiment.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Policies Config `yaml:"policies"`
	}
	if err := yaml.Unmarshal(b, &file); err != nil {
		t.Fatal(err)
	}
	c := file.Policies
	c.SetDefaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(c.Experiments) != 1 {
		t.Fatalf("experiments: %+v", c.Experiments)
	}
	e := c.Experiments[0]
	if e.Unit != UnitUser || len(e.Arms) != 2 || e.Arms[0].Weight != e.Arms[1].Weight {
		t.Fatalf("not a 50/50 user experiment: %+v", e)
	}
	ctl := Decide(&c, Facts{Model: "gpt-4o", User: "user-1"})
	trt := Decide(&c, Facts{Model: "gpt-4o", User: "user-0"})
	if ctl.Arm != "control" || ctl.Mode != ModeOff || trt.Arm != "treatment" || trt.Mode != ModeAligner || trt.Backend != BackendRemote {
		t.Errorf("control %+v\ntreatment %+v", ctl, trt)
	}
	if d := Decide(&c, Facts{Model: "gpt-4o", ModeHeader: "aligner"}); d.Mode != ModeOff || d.Arm != "" {
		t.Errorf("no user: %+v", d)
	}
}

func TestYAMLShape(t *testing.T) {
	src := `
default: {mode: off, budget: 2s, temperature: 0.1}
rules:
  - name: r
    match: {model: "gpt-*", users: [a], headers: {X-T: "v*"}, metadata: {tier: gold}, client_keys: ["` + HashKey("k") + `"]}
    action: {mode: stream, fail: closed, cache: false, include_original: true, allow_mode_header: true, max_tokens: 64, top_p: 0.5}
`
	var c Config
	if err := yaml.Unmarshal([]byte(src), &c); err != nil {
		t.Fatal(err)
	}
	c.SetDefaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	d := Decide(&c, Facts{Model: "gpt-4", User: "a", ClientKey: "k", Header: headers("X-T", "v1"), Metadata: map[string]string{"tier": "gold"}})
	if d.Rule != "r" || d.Mode != ModeStream || !d.FailClosed || d.Cache || !d.IncludeOriginal || d.MaxTokens != 64 ||
		*d.TopP != 0.5 || *d.Temperature != 0.1 || d.Budget != 2*time.Second {
		t.Errorf("decision: %+v", d)
	}
}

func TestRedacted(t *testing.T) {
	c := Config{Records: RecordsConfig{RedisURL: "redis://user:s3cret@host:6379/0"}}
	r := c.Redacted()
	if strings.Contains(r.Records.RedisURL, "s3cret") || !strings.Contains(r.Records.RedisURL, "host:6379") {
		t.Errorf("Redacted: %q", r.Records.RedisURL)
	}
	if c.Records.RedisURL != "redis://user:s3cret@host:6379/0" {
		t.Error("Redacted modified the original")
	}
}
