// Package testenv holds the one rule for tests that need a service or a
// program from outside Go (redis-server, the llama.cpp libraries, node and
// the OpenAI SDK): under CI=true a missing one fails the test, elsewhere
// it skips it, so a developer without it still runs the rest and CI never
// passes by skipping.
//
// It imports nothing of aligngate and only the standard library.
package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// CI reports whether the tests run under CI (CI=true, as .ci/run sets).
func CI() bool { return os.Getenv("CI") == "true" }

// Missing ends t because something it needs is absent: Fatalf under CI,
// Skipf elsewhere. The message says what is missing and how to get it.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if CI() {
		t.Fatalf(format+" (CI=true: a missing service fails)", args...)
		return
	}
	t.Skipf(format, args...)
}

// LlamaLib returns the llama.cpp library directory named by YZMA_LIB, or
// ends t through Missing when it holds no libllama.so.
func LlamaLib(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("YZMA_LIB")
	if _, err := os.Stat(filepath.Join(dir, "libllama.so")); dir == "" || err != nil {
		Missing(t, "llama.cpp libraries not found: run scripts/install-llama.sh and export YZMA_LIB=$PWD/.llama/lib")
	}
	return dir
}

// RealModelFile is the demo model scripts/install-model.sh installs.
const RealModelFile = "SmolLM2-135M-Instruct.Q4_1.gguf"

// RealModel returns the absolute path of the real demo model:
// $ALIGNGATE_MODEL, else .llama/models/RealModelFile in the module's root
// (the folder above the working directory holding go.mod), or ends t
// through Missing when it is not there.
func RealModel(t testing.TB) string {
	t.Helper()
	path := os.Getenv("ALIGNGATE_MODEL")
	if path == "" {
		path = filepath.Join(moduleRoot(), ".llama", "models", RealModelFile)
	}
	if _, err := os.Stat(path); err != nil {
		Missing(t, "real model not found (%v): run scripts/install-model.sh and export ALIGNGATE_MODEL", err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// moduleRoot is the nearest folder at or above the working directory that
// holds go.mod, or "." when there is none.
func moduleRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return "."
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "."
		}
		dir = parent
	}
}

// Browser returns node and Debian's chromium ($CHROMIUM, default
// /usr/bin/chromium), with playwright-core installed in nodeDir, or ends t
// through Missing when any of them is absent.
func Browser(t testing.TB, nodeDir string) (node, chromium string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		Missing(t, "node not found in PATH: install Node.js 20+")
	}
	chromium = os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		Missing(t, "chromium not found at %s: apt-get install chromium", chromium)
	}
	if _, err := os.Stat(filepath.Join(nodeDir, "node_modules", "playwright-core", "package.json")); err != nil {
		Missing(t, "playwright-core is not installed: run npm ci --prefix test/node")
	}
	return node, chromium
}
