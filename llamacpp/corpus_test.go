package llamacpp

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// This file holds the test helpers for the real model and the public
// evaluation data. The data reader is a minimal local one: merge it with
// the shared dataset package when that lands.

const realModelName = "SmolLM2-135M-Instruct.Q4_1.gguf"

// realModelPath returns the demo model: ALIGNGATE_MODEL, else the repo's
// .llama/models copy. It skips the test when missing (fails under CI).
func realModelPath(t testing.TB) string {
	t.Helper()
	path := os.Getenv("ALIGNGATE_MODEL")
	if path == "" {
		path = filepath.Join("..", ".llama", "models", realModelName)
	}
	if _, err := os.Stat(path); err != nil {
		missing(t, "real model not found at "+path+": run scripts/install-model.sh or set ALIGNGATE_MODEL")
	}
	return path
}

func missing(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// openReal opens an engine on the real model; edit adjusts the config.
func openReal(t testing.TB, edit func(*Config)) *Engine {
	t.Helper()
	cfg := Config{ModelPath: realModelPath(t), LibDir: libDir(t), ContextSize: 1024, Parallel: 4, Threads: 1, BatchSize: 512}
	if edit != nil {
		edit(&cfg)
	}
	e, err := Open(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

// qa is a question and the answer a correction rewrites.
type qa struct{ Question, Answer string }

func dataPath(t testing.TB, name string) string {
	t.Helper()
	path := filepath.Join("..", "..", "shared", "data", name)
	if _, err := os.Stat(path); err != nil {
		missing(t, "evaluation data not found: "+path)
	}
	return path
}

// hhAnswers returns the first n HH-RLHF harmless-base dialogues' first
// question and the last assistant turn of the rejected transcript.
func hhAnswers(t testing.TB, n int) []qa {
	t.Helper()
	f, err := os.Open(dataPath(t, "hh-rlhf-harmless-base-test.jsonl.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var out []qa
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() && len(out) < n {
		var row struct{ Rejected string }
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatal(err)
		}
		q, a := splitDialogue(row.Rejected)
		if q != "" && a != "" {
			out = append(out, qa{q, a})
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func splitDialogue(s string) (question, answer string) {
	h := strings.Index(s, "Human: ")
	a := strings.LastIndex(s, "\n\nAssistant: ")
	if h < 0 || a < 0 {
		return "", ""
	}
	q := s[h+len("Human: "):]
	if i := strings.Index(q, "\n\nAssistant: "); i >= 0 {
		q = q[:i]
	}
	return strings.TrimSpace(q), strings.TrimSpace(s[a+len("\n\nAssistant: "):])
}

// mtBenchAnswers returns the first n MT-bench GPT-4 reference answers with
// their questions (first turn).
func mtBenchAnswers(t testing.TB, n int) []qa {
	t.Helper()
	questions := map[int]string{}
	readJSONL(t, "mt_bench_question.jsonl", func(b []byte) {
		var q struct {
			ID    int `json:"question_id"`
			Turns []string
		}
		if err := json.Unmarshal(b, &q); err != nil {
			t.Fatal(err)
		}
		questions[q.ID] = q.Turns[0]
	})
	var out []qa
	readJSONL(t, "mt_bench_reference_gpt4.jsonl", func(b []byte) {
		var r struct {
			ID      int `json:"question_id"`
			Choices []struct{ Turns []string }
		}
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatal(err)
		}
		if len(out) < n {
			out = append(out, qa{questions[r.ID], r.Choices[0].Turns[0]})
		}
	})
	return out
}

func readJSONL(t testing.TB, name string, row func([]byte)) {
	t.Helper()
	f, err := os.Open(dataPath(t, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		row(sc.Bytes())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
}

// chatML renders SmolLM2's chat template (ChatML) by hand, generation
// prompt included. Replace it with the engine's template support when that
// lands.
func chatML(system, user string) string {
	return "<|im_start|>system\n" + system + "<|im_end|>\n<|im_start|>user\n" + user +
		"<|im_end|>\n<|im_start|>assistant\n"
}

// correctionPrompt asks the model to edit x's answer.
func correctionPrompt(x qa) string {
	return chatML("You are a careful editor.",
		"Question: "+x.Question+"\n\nAnswer: "+x.Answer+
			"\n\nEdit the answer to be more helpful and harmless. Output only the corrected answer.")
}

// repeatPrompt asks the model to repeat x's answer verbatim.
func repeatPrompt(x qa) string {
	return chatML("You repeat text exactly.", "Repeat the following text exactly, word for word, and nothing else:\n\n"+x.Answer)
}
