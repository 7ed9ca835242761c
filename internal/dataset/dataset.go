// Package dataset reads the public evaluation data aligngate's tests,
// benchmarks and evals use (Anthropic HH-RLHF, MT-bench, XSTest) into
// question/answer pairs. The files are used where they lie, by path; they
// are never copied into the project (see ../shared/data/README.md).
package dataset

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// File names of the data sets in the data directory.
const (
	HHRLHFFile          = "hh-rlhf-harmless-base-test.jsonl.gz"
	MTBenchQuestionFile = "mt_bench_question.jsonl"
	MTBenchRefFile      = "mt_bench_reference_gpt4.jsonl"
	XSTestPromptsFile   = "xstest_prompts.csv"
	XSTestGPT4File      = "xstest_v2_completions_gpt4.csv"
	XSTestMistralFile   = "xstest_v2_completions_mistralinstruct.csv"
)

// Pair is one question with an answer to correct.
type Pair struct {
	ID        string // the row's identity in its data set
	Question  string // what the user asked (the last user turn)
	Answer    string // the answer to correct; empty where the set has none
	Reference string // a better answer where the set has one (HH-RLHF's chosen)
	Context   string // earlier dialogue, if any, as the data set writes it
	Turns     int    // user turns in the dialogue, this one included
	Category  string // the set's category or type column, if any
	Label     string // the set's label (XSTest safe/unsafe or final_label)
}

// EnvDataDir names the variable that overrides where the data lies.
const EnvDataDir = "ALIGNGATE_DATA"

// DataDir returns the data directory: $ALIGNGATE_DATA when set, else
// ../shared/data beside the repository root (the folder holding go.mod,
// found from the working directory upwards).
func DataDir() (string, error) {
	if dir := os.Getenv(EnvDataDir); dir != "" {
		return checkDir(dir)
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("dataset: %w", err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return checkDir(filepath.Join(dir, "..", "shared", "data"))
		}
		if filepath.Dir(dir) == dir {
			return "", fmt.Errorf("dataset: no go.mod above %s to find ../shared/data from; set %s", wd, EnvDataDir)
		}
	}
}

// Path returns the path of the named file in DataDir.
func Path(name string) (string, error) {
	dir, err := DataDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, name), nil
}

func checkDir(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("dataset: %w", err)
	}
	fi, err := os.Stat(abs)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "", fmt.Errorf("dataset: data directory %s: %w (set %s)", abs, err, EnvDataDir)
	case err != nil:
		return "", fmt.Errorf("dataset: %w", err)
	case !fi.IsDir():
		return "", fmt.Errorf("dataset: %s is not a directory", abs)
	}
	return abs, nil
}
