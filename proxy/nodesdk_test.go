package proxy_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aligngate/aligngate/internal/testenv"
)

// nodeDir holds the Node SDK test script and its pinned dependencies.
const nodeDir = "../test/node"

// nodeCases are the case names sdk.test.mjs reports; each must say "ok".
var nodeCases = []string{
	"non-stream", "non-stream raw response", "stream", "stream helper",
	"bad request", "bad request stream",
}

// requireNodeSDK returns the node binary, or fails under CI and skips
// elsewhere when node or the installed SDK is missing.
func requireNodeSDK(t *testing.T) string {
	t.Helper()
	missing := func(why string) {
		testenv.Missing(t, "%s", why)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node not found in PATH: install Node.js 20+")
	}
	if _, err := os.Stat(filepath.Join(nodeDir, "node_modules", "openai", "package.json")); err != nil {
		missing("the OpenAI Node SDK is not installed: run npm ci --prefix test/node")
	}
	return node
}

// TestNodeSDK drives the official OpenAI Node SDK (pinned in
// test/node/package.json) against the proxy: non-stream, stream and an
// upstream 400 that the SDK must raise as BadRequestError.
func TestNodeSDK(t *testing.T) {
	node := requireNodeSDK(t)
	up, ps := startClientProxy(t)
	fixture, err := json.Marshal(up.fx)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "sdk.test.mjs")
	cmd.Dir = nodeDir
	cmd.Env = append(os.Environ(), "ALIGNGATE_BASE_URL="+ps.URL+"/v1", "ALIGNGATE_FIXTURE="+string(fixture),
		"ALIGNGATE_UPSTREAM_URL="+up.url)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("running node: %v\n%s", err, out)
	}
	lines := strings.Split(string(out), "\n")
	for _, name := range nodeCases {
		if !containsLine(lines, "ok - "+name) {
			t.Errorf("case %q did not pass", name)
		}
	}
	if err != nil || t.Failed() {
		t.Fatalf("node sdk.test.mjs: %v\n%s", err, out)
	}
	if up.gateTimedOut.Load() {
		t.Errorf("the SDK saw the first delta only after the upstream finished: the stream was buffered")
	}
	// Each case sends exactly one request: a retrying SDK would hide a
	// proxy that fails once.
	reqs := up.requests()
	if len(reqs) != len(nodeCases) {
		t.Errorf("upstream saw %d requests, want %d", len(reqs), len(nodeCases))
	}
	for _, r := range reqs {
		if got := r.Header.Get("Authorization"); got != "Bearer sk-aligngate-test" {
			t.Errorf("upstream saw Authorization %q", got)
		}
	}
}

func containsLine(lines []string, want string) bool {
	for _, l := range lines {
		if strings.TrimSpace(l) == want {
			return true
		}
	}
	return false
}
