package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aligngate/aligngate/config"
)

// exampleNeeds lists, per example config, the environment variables it
// needs (its "Needs:" header line).
var exampleNeeds = map[string][]string{
	"experiment.yaml":    {"UPSTREAM_URL", "ALIGNER_URL"},
	"stream-guide.yaml":  {"UPSTREAM_URL", "STREAM_ALIGNER_URL"},
	"local-aligner.yaml": {"ALIGNER_MODEL"},
}

// TestExamplesNameTheirVariables runs check on every example with an empty
// environment: its output names exactly the variables the example needs,
// and its header says so.
func TestExamplesNameTheirVariables(t *testing.T) {
	files, err := filepath.Glob("../../examples/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	for _, f := range files {
		abs, _ := filepath.Abs(f)
		needs, ok := exampleNeeds[filepath.Base(f)]
		if !ok {
			t.Errorf("%s: add it to exampleNeeds", f)
			continue
		}
		r := runCLI(t, "", nil, "check", "--config", abs)
		out := r.stdout + r.stderr
		if want := "expanded to \"\": " + strings.Join(needs, ", "); !strings.Contains(out, want) {
			t.Errorf("%s: check output lacks %q:\n%s", f, want, out)
		}
		text, _ := os.ReadFile(f)
		if !strings.Contains(string(text), "# Needs: "+needs[0]) {
			t.Errorf("%s: header does not say what it needs", f)
		}
	}
}

// TestExamplesListenOnLoopback loads every example with its variables set:
// each listens on the loopback interface unless LISTEN says otherwise.
func TestExamplesListenOnLoopback(t *testing.T) {
	files, _ := filepath.Glob("../../examples/*.yaml")
	env := map[string]string{"UPSTREAM_URL": "http://127.0.0.1:9/v1", "ALIGNER_URL": "http://127.0.0.1:9/v1",
		"STREAM_ALIGNER_URL": "http://127.0.0.1:9/v1", "ALIGNER_MODEL": "/models/a.gguf"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	for _, f := range files {
		cfg, err := config.Load(f, lookup)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		host, _, err := net.SplitHostPort(cfg.Server.Listen)
		if err != nil || host != "127.0.0.1" {
			t.Errorf("%s: listens on %q, want 127.0.0.1:PORT", f, cfg.Server.Listen)
		}
	}
}
