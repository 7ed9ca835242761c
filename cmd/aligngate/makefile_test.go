package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/aligngate/aligngate/internal/testenv"
)

// makeDryRun prints what `make args...` would run at the repository root.
func makeDryRun(t *testing.T, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath("make"); err != nil {
		testenv.Missing(t, "make not found in PATH")
	}
	cmd := exec.Command("make", append([]string{"-n", "-C", "../.."}, args...)...)
	cmd.Env = append(os.Environ(), "MAKEFLAGS=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make -n %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// TestMakeRunListensOnLoopback: `make run` serves on 127.0.0.1:8080 unless
// LISTEN says otherwise, and passes REDIS= on as --redis.
func TestMakeRunListensOnLoopback(t *testing.T) {
	out := makeDryRun(t, "run")
	if !strings.Contains(out, "--listen 127.0.0.1:8080 ") {
		t.Errorf("make run does not listen on loopback:\n%s", out)
	}
	if strings.Contains(out, "--redis") {
		t.Errorf("make run without REDIS passes --redis:\n%s", out)
	}
	out = makeDryRun(t, "run", "LISTEN=:9000", "REDIS=redis://127.0.0.1:6379/0")
	if !strings.Contains(out, "--listen :9000 ") || !strings.Contains(out, "--redis redis://127.0.0.1:6379/0") {
		t.Errorf("make run LISTEN= REDIS=:\n%s", out)
	}
}

// TestMakeInstall: `make install` installs the command with go install.
func TestMakeInstall(t *testing.T) {
	if out := makeDryRun(t, "install"); !strings.Contains(out, "install -buildvcs=auto ./cmd/aligngate") {
		t.Errorf("make install:\n%s", out)
	}
}

// TestServeLogsRedisAtStart: serve says at start whether Redis answered,
// before any request.
func TestServeLogsRedisAtStart(t *testing.T) {
	be := backend(t, []string{"aligner"}, "Fixed.")
	up := chatUpstream(t, "Broken.")
	s := startServe(t, nil, "--upstream", up.URL+"/v1", "--aligner-url", be.URL, "--mode", "aligner", "--redis", "redis://127.0.0.1:1/0")
	if !strings.Contains(s.stderr.String(), `"msg":"redis did not answer; serving without it until it does"`) {
		t.Errorf("no warning for a Redis that is down:\n%s", s.stderr.String())
	}
	addr := os.Getenv("ALIGNGATE_REDIS_ADDR")
	if addr == "" {
		testenv.Missing(t, "ALIGNGATE_REDIS_ADDR not set: start redis-server and export it")
	}
	s = startServe(t, nil, "--upstream", up.URL+"/v1", "--aligner-url", be.URL, "--mode", "aligner", "--redis", "redis://"+addr+"/0")
	if !strings.Contains(s.stderr.String(), `"msg":"redis answered"`) {
		t.Errorf("no note that Redis answered:\n%s", s.stderr.String())
	}
}
