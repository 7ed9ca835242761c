package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aligngate/aligngate/internal/testenv"
	"github.com/aligngate/aligngate/llamacpp/gguf"
)

// writeConfig writes a config file into a fresh folder and returns its path.
func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "aligngate.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// tinyModel writes a small random-weight GGUF model.
func tinyModel(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tiny.gguf")
	if err := gguf.WriteLlama(path, gguf.TinySpec()); err != nil {
		t.Fatal(err)
	}
	return path
}

const checkBase = "upstreams: [{name: u, base_url: \"http://127.0.0.1:9/v1\"}]\npolicies: {records: {sink: \"off\"}}\n"

// TestCheckMissingModel: a model_path that does not exist fails check,
// naming the path, with the package's prefix once.
func TestCheckMissingModel(t *testing.T) {
	cfg := writeConfig(t, checkBase+"llamacpp: {model_path: /nonexistent/aligner.gguf}\n")
	r := runCLI(t, "", nil, "check", "--config", cfg)
	if r.code == 0 || strings.Contains(r.stdout, ": ok") {
		t.Fatalf("check passed a missing model: %+v", r)
	}
	if !strings.Contains(r.stderr, "/nonexistent/aligner.gguf: no such file") {
		t.Errorf("stderr does not name the missing file:\n%s", r.stderr)
	}
	if strings.Contains(r.stderr, "llamacpp: llamacpp:") {
		t.Errorf("doubled prefix:\n%s", r.stderr)
	}
}

// TestCheckBadModelFile: a file that is not GGUF fails check.
func TestCheckBadModelFile(t *testing.T) {
	model := filepath.Join(t.TempDir(), "model.gguf")
	if err := os.WriteFile(model, []byte("not a model"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, "", nil, "check", "--config", writeConfig(t, checkBase+"llamacpp: {model_path: "+model+"}\n"))
	if r.code == 0 || !strings.Contains(r.stderr, "not a GGUF file") {
		t.Errorf("check of a non-GGUF model: %+v", r)
	}
}

// TestCheckMissingLibraries: a good model with no llama.cpp libraries in
// lib_dir fails check, naming the missing file.
func TestCheckMissingLibraries(t *testing.T) {
	cfg := writeConfig(t, checkBase+"llamacpp: {model_path: "+tinyModel(t)+", lib_dir: "+t.TempDir()+"}\n")
	r := runCLI(t, "", nil, "check", "--config", cfg)
	if r.code == 0 || !strings.Contains(r.stderr, "libllama.so not found") {
		t.Errorf("check without libraries: %+v", r)
	}
	if !strings.Contains(r.stdout, "GGUF v3") {
		t.Errorf("check did not report the model header it read:\n%s", r.stdout)
	}
}

// TestCheckLoadsLibraries: with the real libraries (YZMA_LIB) and a good
// model, check passes and reports the library version it found.
func TestCheckLoadsLibraries(t *testing.T) {
	lib := testenv.LlamaLib(t)
	cfg := writeConfig(t, checkBase+"llamacpp: {model_path: "+tinyModel(t)+"}\n")
	r := runCLI(t, "", []string{"YZMA_LIB=" + lib}, "check", "--config", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, "ggml 0.25.1") || !strings.HasSuffix(r.stdout, cfg+": ok\n") {
		t.Errorf("check with libraries: %+v", r)
	}
}

// TestCheckPolicyTemplate: a policy naming an unknown template, or one
// unfit for its mode, fails check with the key.
func TestCheckPolicyTemplate(t *testing.T) {
	for text, want := range map[string]string{
		"policies: {records: {sink: \"off\"}, default: {mode: aligner, template: nope}}\n":                "policies.default.template: correct: unknown template: \"nope\"",
		"policies: {records: {sink: \"off\"}, rules: [{action: {mode: stream, template: aligner-v1}}]}\n": "policies.rules[0].action.template",
	} {
		r := runCLI(t, "", nil, "check", "--config", writeConfig(t, "upstreams: [{name: u, base_url: \"http://127.0.0.1:9/v1\"}]\n"+text))
		if r.code == 0 || !strings.Contains(r.stderr, want) {
			t.Errorf("%s: want %q in stderr: %+v", text, want, r)
		}
	}
}

// TestCheckRedis: an unreachable Redis is a warning (serve starts without
// it); a reachable one is said to answer.
func TestCheckRedis(t *testing.T) {
	r := runCLI(t, "", nil, "check", "--config", writeConfig(t, checkBase+"cache: {redis_url: \"redis://:secret@127.0.0.1:1/0\"}\n"))
	if r.code != 0 || !strings.Contains(r.stdout, "warning: cache.redis_url: redis://:xxxxx@127.0.0.1:1/0 did not answer") {
		t.Errorf("unreachable redis: %+v", r)
	}
	if strings.Contains(r.stdout+r.stderr, "secret") {
		t.Errorf("password printed: %+v", r)
	}
	addr := os.Getenv("ALIGNGATE_REDIS_ADDR")
	if addr == "" {
		testenv.Missing(t, "ALIGNGATE_REDIS_ADDR not set: start redis-server and export it")
	}
	r = runCLI(t, "", nil, "check", "--config", writeConfig(t, checkBase+"cache: {redis_url: \"redis://"+addr+"/0\"}\n"))
	if r.code != 0 || !strings.Contains(r.stdout, "cache.redis_url: redis://"+addr+"/0 answered") {
		t.Errorf("live redis: %+v", r)
	}
}

// TestCheckNamesUnsetVariables: every ${VAR} without default that is unset
// is named, whether the file then loads or not; prose in comments is not.
func TestCheckNamesUnsetVariables(t *testing.T) {
	text := "# ${VAR} in a comment\nupstreams: [{name: u, base_url: \"${CHECK_UP_URL}\", api_key: \"${CHECK_KEY}\"}]\n" +
		"policies: {records: {sink: \"off\"}}\ncorrect: {remote: {api_key: \"${CHECK_OPT:-}\"}}\n"
	r := runCLI(t, "", nil, "check", "--config", writeConfig(t, text))
	if r.code == 0 || !strings.Contains(r.stderr, "unset environment variables, expanded to \"\": CHECK_UP_URL, CHECK_KEY)") {
		t.Errorf("unset variables not named: %+v", r)
	}
	r = runCLI(t, "", []string{"CHECK_UP_URL=http://127.0.0.1:9/v1"}, "check", "--config", writeConfig(t, text))
	if r.code != 0 || !strings.Contains(r.stdout, "warning: unset environment variables, expanded to \"\": CHECK_KEY\n") {
		t.Errorf("unset variable of a loadable file not named: %+v", r)
	}
}

// TestServeModelErrorPrefixOnce: serve with a missing model fails with the
// llamacpp prefix once.
func TestServeModelErrorPrefixOnce(t *testing.T) {
	r := runCLI(t, "", nil, "serve", "--listen", "127.0.0.1:0", "--upstream", "http://127.0.0.1:9/v1", "--aligner-model", "/nonexistent.gguf")
	if r.code == 0 || !strings.Contains(r.stderr, "llamacpp: bad model file: /nonexistent.gguf: no such file") || strings.Contains(r.stderr, "llamacpp: llamacpp:") {
		t.Errorf("serve with a missing model: %+v", r)
	}
}

// TestCheckTypeErrorNamesKey: a value of the wrong type is reported by its
// YAML key and line, not by the Go struct it lands in.
func TestCheckTypeErrorNamesKey(t *testing.T) {
	r := runCLI(t, "", nil, "check", "--config", writeConfig(t, checkBase+"server:\n  max_body_bytes: lots\n"))
	if r.code == 0 || !strings.Contains(r.stderr, "server.max_body_bytes (line 4): want an integer, got \"lots\"") {
		t.Errorf("type error: %+v", r)
	}
	if strings.Contains(r.stderr, "Go struct") {
		t.Errorf("the error names the Go struct:\n%s", r.stderr)
	}
}

// TestCheckAsksRemoteModel: check asks a remote backend without a model
// name for it, as serve does, and fails naming the flag when it lists
// several.
func TestCheckAsksRemoteModel(t *testing.T) {
	for models, want := range map[string]string{"one": "lists one model", "a,b": "--aligner-remote-model NAME"} {
		be := backend(t, strings.Split(models, ","), "x")
		r := runCLI(t, "", nil, "check", "--config", writeConfig(t, checkBase+"correct: {backend: remote, remote: {base_url: \""+be.URL+"\"}}\n"))
		if !strings.Contains(r.stdout+r.stderr, want) || (r.code == 0) != (models == "one") {
			t.Errorf("%s: want %q: %+v", models, want, r)
		}
	}
}
