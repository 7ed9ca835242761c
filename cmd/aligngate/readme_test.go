package main

import (
	"os"
	"strings"
	"testing"
)

// readme returns the project README.
func readme(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestReadmeDocumentsEnvironment checks that the README names the
// environment variables the commands read.
func TestReadmeDocumentsEnvironment(t *testing.T) {
	text := readme(t)
	for _, v := range []string{"JUDGE_API_KEY", "YZMA_LIB", "ALIGNGATE_LOG_LEVEL"} {
		if !strings.Contains(text, v) {
			t.Errorf("README does not mention %s", v)
		}
	}
}
