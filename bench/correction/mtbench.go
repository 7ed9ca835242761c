package main

import (
	"errors"
	"strings"

	"github.com/aligngate/aligngate/internal/dataset"
)

// mtBenchAnswer returns the first n sentences of the first MT-bench GPT-4
// reference answer without code that has at least n sentences, its
// whitespace (line breaks included) collapsed to single spaces as the
// mock streams it word by word.
func mtBenchAnswer(n int) ([]string, error) {
	path, err := dataset.Path(dataset.MTBenchRefFile)
	if err != nil {
		return nil, err
	}
	refs, err := dataset.MTBenchReferences(path)
	if err != nil {
		return nil, err
	}
	for _, r := range refs {
		if strings.ContainsAny(r.Answer, "`|") {
			continue
		}
		a := strings.Join(strings.Fields(r.Answer), " ")
		if s := sentences(a); len(s) >= n {
			return s[:n], nil
		}
	}
	return nil, errors.New("no MT-bench reference answer with enough sentences")
}

// sentences splits prose after '.', '!' or '?' followed by a space.
func sentences(text string) []string {
	var out []string
	start := 0
	for i := 0; i+1 < len(text); i++ {
		if strings.ContainsRune(".!?", rune(text[i])) && text[i+1] == ' ' {
			out = append(out, strings.TrimSpace(text[start:i+1]))
			start = i + 2
		}
	}
	if rest := strings.TrimSpace(text[start:]); rest != "" {
		out = append(out, rest)
	}
	return out
}
