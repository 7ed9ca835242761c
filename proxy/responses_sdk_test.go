package proxy

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aligngate/aligngate/internal/testenv"
)

// respSDKCases are the case names both SDK scripts report; each must say "ok".
var respSDKCases = []string{"responses create", "responses create stream", "responses stream helper"}

// nodeForSDK returns the node binary, or fails under CI and skips elsewhere
// when node or the installed SDK is missing.
func nodeForSDK(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Missing(t, "node not found in PATH: install Node.js 20+")
	}
	if _, err := os.Stat(filepath.Join("..", "test", "node", "node_modules", "openai", "package.json")); err != nil {
		testenv.Missing(t, "the OpenAI Node SDK is not installed: run npm ci --prefix test/node")
	}
	return node
}

// pythonForSDK returns a Python that imports the OpenAI SDK:
// $ALIGNGATE_PYTHON, else test/python/.venv (scripts/test.sh installs it).
func pythonForSDK(t *testing.T) string {
	t.Helper()
	py := os.Getenv("ALIGNGATE_PYTHON")
	if py == "" {
		py = filepath.Join("..", "test", "python", ".venv", "bin", "python")
	}
	if out, err := exec.Command(py, "-c", "import openai").CombinedOutput(); err != nil {
		testenv.Missing(t, "the OpenAI Python SDK is not installed (%s: %v %s): run scripts/test.sh or "+
			"python3 -m venv test/python/.venv && test/python/.venv/bin/pip install -r test/python/requirements.txt", py, err, out)
	}
	return py
}

// runSDKScript runs one SDK script against baseURL and checks that every
// case reported ok and the script exited 0.
func runSDKScript(t *testing.T, dir string, argv []string, env ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("running %v: %v\n%s", argv, err, out)
	}
	lines := strings.Split(string(out), "\n")
	for _, name := range respSDKCases {
		ok := false
		for _, l := range lines {
			ok = ok || strings.TrimSpace(l) == "ok - "+name
		}
		if !ok {
			t.Errorf("case %q did not pass", name)
		}
	}
	if err != nil || t.Failed() {
		t.Fatalf("%v: %v\n%s", argv, err, out)
	}
}

// TestResponsesSDKs drives the official OpenAI Node and Python SDKs'
// Responses API (create, create with stream, the stream helper) against a
// correcting proxy in aligner and stream mode: both parse every event and
// assemble output_text equal to the corrected text.
func TestResponsesSDKs(t *testing.T) {
	sdks := []struct {
		name string
		run  func(t *testing.T, env ...string)
	}{
		{"node", func(t *testing.T, env ...string) {
			node := nodeForSDK(t)
			runSDKScript(t, filepath.Join("..", "test", "node"), []string{node, "responses.test.mjs"}, env...)
		}},
		{"python", func(t *testing.T, env ...string) {
			py := pythonForSDK(t)
			abs, err := filepath.Abs(py)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(py, string(filepath.Separator)) {
				abs = py // a name found in PATH
			}
			runSDKScript(t, filepath.Join("..", "test", "python"), []string{abs, "responses_sdk.py"}, env...)
		}},
	}
	for _, sdk := range sdks {
		for _, mode := range []string{"aligner", "stream"} {
			t.Run(sdk.name+"/"+mode, func(t *testing.T) {
				be := &backend{respond: fixed(respAligned)}
				bts := be.server(t)
				u := &respUpstream{text: respOriginal}
				px := correctingProxy(t, u.server(t).URL, bts.URL, mode, nil)
				sdk.run(t, "ALIGNGATE_BASE_URL="+px.URL+"/v1", "ALIGNGATE_EXPECTED="+respCorrected[mode], "ALIGNGATE_MODE="+mode)
			})
		}
	}
}
