package llamacpp

import (
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aligngate/aligngate/internal/dataset"
	"github.com/aligngate/aligngate/internal/testenv"
)

// tokenizeStrings returns 100 strings from the evaluation data: HH-RLHF
// questions and answers, MT-bench questions and GPT-4 references (code,
// Markdown, non-ASCII) and XSTest prompts.
func tokenizeStrings(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, p := range pairs(t, dataset.HHRLHFFile, dataset.HHRLHF, 20, nil) {
		out = append(out, p.Question, p.Answer)
	}
	for _, p := range pairs(t, dataset.MTBenchRefFile, dataset.MTBenchReferences, 20, nil) {
		out = append(out, p.Question, p.Answer)
	}
	for _, p := range pairs(t, dataset.XSTestPromptsFile, dataset.XSTest, 20, nil) {
		out = append(out, p.Question)
	}
	return out
}

// TestRealTokenizeMatchesLlamaCpp checks the engine's tokenization of 100
// strings from the data against llama.cpp's own llama-tokenize (same
// release, same GGUF), and that detokenizing gives the string back.
func TestRealTokenizeMatchesLlamaCpp(t *testing.T) {
	tool := llamaTool(t, "llama-tokenize")
	model := testenv.RealModel(t)
	e := openReal(t, nil)
	strs := tokenizeStrings(t)
	if len(strs) != 100 {
		t.Fatalf("%d strings, want 100", len(strs))
	}
	for i, s := range strs {
		got, err := e.Tokenize(s)
		if err != nil {
			t.Fatal(err)
		}
		want := llamaTokenize(t, tool, model, s)
		if !slices.Equal(got, want) {
			t.Errorf("string %d %q:\nengine     %v\nllama.cpp  %v", i, s, got, want)
			continue
		}
		back, err := e.Detokenize(got)
		if err != nil || back != s {
			t.Errorf("string %d: detokenize(tokenize(s)) = %q (%v), want %q", i, back, err, s)
		}
	}
}

// llamaTokenize runs llama-tokenize on s and parses its --ids output.
func llamaTokenize(t *testing.T, tool, model, s string) []int32 {
	t.Helper()
	cmd := exec.Command(tool, "-m", model, "--ids", "--log-disable", "-p", s)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("llama-tokenize: %v", err)
	}
	line := strings.TrimSpace(string(out))
	if i := strings.LastIndex(line, "\n"); i >= 0 {
		line = line[i+1:]
	}
	line = strings.Trim(line, "[]")
	var ids []int32
	for _, f := range strings.Split(line, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.ParseInt(f, 10, 32)
		if err != nil {
			t.Fatalf("llama-tokenize output %q: %v", out, err)
		}
		ids = append(ids, int32(n))
	}
	return ids
}
