package policies

import (
	"net/http"
	"reflect"
	"testing"
	"time"
)

func headers(kv ...string) func(string) string {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h.Get
}

func testConfig() *Config {
	cfg := &Config{
		Default: Action{Mode: ModeOff, Template: "aligner-v1", Backend: BackendRemote, Budget: ptr(3 * time.Second)},
		Rules: []Rule{
			{Name: "tenant-a", Match: Match{ClientKeys: []string{HashKey("sk-tenant-a")}},
				Action: Action{Mode: ModeStream, Fail: FailClosed, AllowModeHeader: ptr(true)}},
			{Name: "llama", Match: Match{Model: "meta-llama/*"},
				Action: Action{Mode: ModeAligner, Backend: BackendLocal, Temperature: ptr(float32(0.2)), TopP: ptr(float32(0.9)), MaxTokens: ptr(512)}},
			{Name: "gpt-any", Match: Match{Model: "gpt-*"},
				Action: Action{Mode: ModeAligner}},
			{Name: "beta-route", Match: Match{Route: "/v1/completions", Headers: map[string]string{"X-Beta": "y*"}},
				Action: Action{Mode: ModeAligner, Cache: ptr(false), IncludeOriginal: ptr(true)}},
			{Name: "vip", Match: Match{Users: []string{"alice", "bob"}, Metadata: map[string]string{"tier": "gold"}},
				Action: Action{Mode: ModeAligner, Template: "aligner-vip", Budget: ptr(time.Duration(0))}},
		},
	}
	cfg.SetDefaults()
	return cfg
}

func TestDecide(t *testing.T) {
	f32 := func(v float32) *float32 { return &v }
	base := Decision{Mode: ModeOff, Backend: BackendRemote, Template: "aligner-v1", Budget: 3 * time.Second, Cache: true, Rule: DefaultRuleName}
	with := func(mod func(*Decision)) Decision { d := base; mod(&d); return d }
	tests := []struct {
		name  string
		facts Facts
		want  Decision
	}{
		{"nothing matches: default action", Facts{Model: "claude"}, base},
		{"client key rule first even if model matches later rule", Facts{Model: "gpt-4o", ClientKey: "sk-tenant-a"},
			with(func(d *Decision) { d.Mode, d.FailClosed, d.Rule = ModeStream, true, "tenant-a" })},
		{"other key falls through to model rule", Facts{Model: "gpt-4o", ClientKey: "sk-other"},
			with(func(d *Decision) { d.Mode, d.Rule = ModeAligner, "gpt-any" })},
		{"sampling, backend, max tokens; unset fields inherit", Facts{Model: "meta-llama/Llama-3-8B"},
			with(func(d *Decision) {
				d.Mode, d.Backend, d.Rule = ModeAligner, BackendLocal, "llama"
				d.Temperature, d.TopP, d.MaxTokens = f32(0.2), f32(0.9), 512
			})},
		{"route and header glob", Facts{Model: "x", Route: "/v1/completions", Header: headers("X-Beta", "yes")},
			with(func(d *Decision) { d.Mode, d.Cache, d.IncludeOriginal, d.Rule = ModeAligner, false, true, "beta-route" })},
		{"header glob does not fit", Facts{Model: "x", Route: "/v1/completions", Header: headers("X-Beta", "no")}, base},
		{"header missing", Facts{Model: "x", Route: "/v1/completions"}, base},
		{"user and metadata both required", Facts{User: "alice", Metadata: map[string]string{"tier": "gold"}},
			with(func(d *Decision) { d.Mode, d.Template, d.Budget, d.Rule = ModeAligner, "aligner-vip", 0, "vip" })},
		{"user without metadata", Facts{User: "alice"}, base},
		{"metadata without user", Facts{User: "carol", Metadata: map[string]string{"tier": "gold"}}, base},
		{"mode header ignored when not allowed", Facts{Model: "gpt-4o", ModeHeader: "off"},
			with(func(d *Decision) { d.Mode, d.Rule = ModeAligner, "gpt-any" })},
		{"mode header honoured when rule allows", Facts{ClientKey: "sk-tenant-a", ModeHeader: " Aligner "},
			with(func(d *Decision) {
				d.Mode, d.FailClosed, d.Rule, d.ModeFromHeader = ModeAligner, true, "tenant-a", true
			})},
		{"invalid mode header ignored", Facts{ClientKey: "sk-tenant-a", ModeHeader: "turbo"},
			with(func(d *Decision) { d.Mode, d.FailClosed, d.Rule = ModeStream, true, "tenant-a" })},
	}
	cfg := testConfig()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Decide(cfg, tt.facts); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Decide() =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestDecideBuiltinDefaults(t *testing.T) {
	want := Decision{Mode: ModeOff, Cache: true, Rule: DefaultRuleName}
	for name, cfg := range map[string]*Config{"nil": nil, "zero": {}, "defaulted": func() *Config { c := &Config{}; c.SetDefaults(); return c }()} {
		if got := Decide(cfg, Facts{Model: "m", ModeHeader: "aligner"}); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: Decide() = %+v, want %+v", name, got, want)
		}
	}
}

func TestDecideUnnamedRule(t *testing.T) {
	cfg := &Config{Rules: []Rule{{Match: Match{Model: "a"}}, {Match: Match{Model: "b"}, Action: Action{Mode: ModeAligner}}}}
	if got := Decide(cfg, Facts{Model: "b"}); got.Rule != "rules[1]" || got.Mode != ModeAligner {
		t.Errorf("got rule %q mode %q", got.Rule, got.Mode)
	}
}

func TestDecideExperiment(t *testing.T) {
	cfg := &Config{
		Default: Action{AllowModeHeader: ptr(true)},
		Rules:   []Rule{{Name: "gpt", Match: Match{Model: "gpt-*"}, Action: Action{Mode: ModeAligner, Template: "t-rule"}}},
		Experiments: []Experiment{
			{Name: "only-claude", Match: Match{Model: "claude-*"}, Unit: UnitUser, Arms: []Arm{{Name: "x", Weight: 1}}},
			{Name: "by-header", Unit: UnitHeader, UnitHeader: "X-Session", Arms: []Arm{{Name: "hdr", Weight: 1, Action: Action{Mode: ModeStream}}}},
			{Name: "ab", Unit: UnitUser, CaptureContent: true, Arms: []Arm{
				{Name: "control", Weight: 1, Action: Action{Mode: ModeOff}},
				{Name: "never", Weight: 0, Action: Action{Mode: ModeStream}},
			}},
			{Name: "by-key", Unit: UnitClientKey, Arms: []Arm{{Name: "k", Weight: 1, Action: Action{Template: "t-key"}}}},
		},
	}
	cfg.SetDefaults()

	d := Decide(cfg, Facts{Model: "gpt-4o", User: "u1"})
	if d.Experiment != "ab" || d.Arm != "control" || d.Mode != ModeOff || d.Template != "t-rule" || !d.CaptureContent || d.Rule != "gpt" {
		t.Errorf("user unit: %+v", d)
	}
	if want := HashKey("ab\x00u1"); d.UnitHash != want {
		t.Errorf("unit hash %q, want sha256(name NUL unit) %q", d.UnitHash, want)
	}
	if d := Decide(cfg, Facts{Model: "gpt-4o", User: "u1", Header: headers("X-Session", "s9")}); d.Experiment != "by-header" || d.Mode != ModeStream {
		t.Errorf("first eligible experiment must win: %+v", d)
	}
	d = Decide(cfg, Facts{Model: "gpt-4o", ClientKey: "sk-1"})
	if d.Experiment != "by-key" || d.Template != "t-key" || d.Mode != ModeAligner {
		t.Errorf("client key unit: %+v", d)
	}
	if d.UnitHash != HashKey("by-key\x00"+HashKey("sk-1")) {
		t.Errorf("client key unit must be hashed before use")
	}
	if d := Decide(cfg, Facts{Model: "gpt-4o"}); d.Experiment != "" || d.Arm != "" || d.UnitHash != "" {
		t.Errorf("request without unit enrolled: %+v", d)
	}
	if d := Decide(cfg, Facts{Model: "gpt-4o", User: "u1", ModeHeader: "stream"}); d.Experiment != "" || d.Mode != ModeStream || !d.ModeFromHeader {
		t.Errorf("mode header must override and exclude from experiments: %+v", d)
	}
}

func BenchmarkDecide(b *testing.B) {
	cfg := testConfig()
	cfg.Experiments = []Experiment{{Name: "ab", Unit: UnitUser, Arms: []Arm{
		{Name: "control", Weight: 50, Action: Action{Mode: ModeOff}}, {Name: "treatment", Weight: 50, Action: Action{Mode: ModeAligner}}}}}
	cases := map[string]Facts{
		"default":        {Model: "claude-3", Route: "/v1/chat/completions", ClientKey: "sk-someone"},
		"last-rule":      {Model: "x", User: "alice", Metadata: map[string]string{"tier": "gold"}, ClientKey: "sk-someone", Header: headers("X-Beta", "no")},
		"experiment":     {Model: "gpt-4o", User: "user-12345", Route: "/v1/chat/completions"},
		"no-key-no-user": {Model: "gpt-4o"},
	}
	for name, f := range cases {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = Decide(cfg, f)
			}
		})
	}
}
