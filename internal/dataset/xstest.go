package dataset

import (
	"encoding/csv"
	"fmt"
	"os"
)

// XSTest reads an XSTest CSV: the prompts file (id,prompt,type,label,...)
// or a completions file (id,type,prompt,completion,...,final_label). Each
// row gives a pair: prompt as Question, completion (if any) as Answer, type
// as Category, final_label (or label) as Label.
func XSTest(path string) ([]Pair, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("dataset: %s: %w", path, err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("dataset: %s: empty file", path)
	}
	col := columns(rows[0])
	if col["id"] < 0 || col["prompt"] < 0 {
		return nil, fmt.Errorf("dataset: %s: want columns id and prompt, have %v", path, rows[0])
	}
	label := col["final_label"]
	if label < 0 {
		label = col["label"]
	}
	pairs := make([]Pair, 0, len(rows)-1)
	for _, r := range rows[1:] {
		pairs = append(pairs, Pair{
			ID: cell(r, col["id"]), Question: cell(r, col["prompt"]), Answer: cell(r, col["completion"]),
			Turns: 1, Category: cell(r, col["type"]), Label: cell(r, label),
		})
	}
	return pairs, nil
}

// columns maps the known header names to their index, -1 when absent.
func columns(header []string) map[string]int {
	col := map[string]int{"id": -1, "prompt": -1, "completion": -1, "type": -1, "label": -1, "final_label": -1}
	for i, h := range header {
		if _, ok := col[h]; ok {
			col[h] = i
		}
	}
	return col
}

func cell(row []string, i int) string {
	if i < 0 || i >= len(row) {
		return ""
	}
	return row[i]
}
