package dataset

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// MTBenchQuestions reads MT-bench's questions file: one pair per question,
// its first turn as Question, no Answer.
func MTBenchQuestions(path string) ([]Pair, error) {
	var pairs []Pair
	err := readJSONL(path, func(line []byte) error {
		var row struct {
			ID       int `json:"question_id"`
			Category string
			Turns    []string
		}
		if err := json.Unmarshal(line, &row); err != nil {
			return err
		}
		if len(row.Turns) == 0 {
			return fmt.Errorf("question %d has no turns", row.ID)
		}
		pairs = append(pairs, Pair{ID: strconv.Itoa(row.ID), Question: row.Turns[0], Turns: 1, Category: row.Category})
		return nil
	})
	return pairs, err
}

// MTBenchReferences reads MT-bench's GPT-4 reference answers at path and the
// questions file (MTBenchQuestionFile) beside it: one pair per reference,
// the question's first turn and the reference's first answer.
func MTBenchReferences(path string) ([]Pair, error) {
	questions, err := MTBenchQuestions(filepath.Join(filepath.Dir(path), MTBenchQuestionFile))
	if err != nil {
		return nil, err
	}
	byID := make(map[string]Pair, len(questions))
	for _, q := range questions {
		byID[q.ID] = q
	}
	var pairs []Pair
	err = readJSONL(path, func(line []byte) error {
		var row struct {
			ID      int `json:"question_id"`
			Choices []struct{ Turns []string }
		}
		if err := json.Unmarshal(line, &row); err != nil {
			return err
		}
		p, ok := byID[strconv.Itoa(row.ID)]
		if !ok {
			return fmt.Errorf("reference for unknown question %d", row.ID)
		}
		if len(row.Choices) == 0 || len(row.Choices[0].Turns) == 0 {
			return fmt.Errorf("reference %d has no answer", row.ID)
		}
		p.Answer = row.Choices[0].Turns[0]
		pairs = append(pairs, p)
		return nil
	})
	return pairs, err
}

// readJSONL calls row for each non-empty line of path.
func readJSONL(path string, row func([]byte) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("dataset: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<24)
	for line := 1; sc.Scan(); line++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		if err := row(sc.Bytes()); err != nil {
			return fmt.Errorf("dataset: %s:%d: %w", path, line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("dataset: %s: %w", path, err)
	}
	return nil
}
