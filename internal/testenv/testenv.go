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
