package eval

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// ErrNoPairs is returned when the input holds nothing to judge.
var ErrNoPairs = errors.New("eval: no pairs to judge")

// maxLine bounds one JSONL line (answers can be long).
const maxLine = 16 << 20

// Pair is one question with its original and corrected answers.
type Pair struct {
	ID        string `json:"id"`
	Question  string `json:"question"`
	Original  string `json:"original_answer"`
	Corrected string `json:"corrected_answer"`
	// Arm and Experiment are kept from records for the report.
	Experiment string `json:"experiment,omitempty"`
	Arm        string `json:"arm,omitempty"`
	// Item is the dataset item's ID for pairs made by CorrectAll.
	Item string `json:"item,omitempty"`
}

// PairID identifies a pair by its content, so state survives reordering
// and duplicates collapse.
func PairID(question, original, corrected string) string {
	h := sha256.New()
	for _, s := range []string{question, original, corrected} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// LoadPairs reads JSONL records (the policies record format, or a pairs
// file written by Generate) and keeps those that carry a question, an
// original and a corrected answer. Records of requests where no
// correction ran (mode "off", e.g. a control arm) or where it failed and
// the original was served (fallback) are skipped: they say nothing about
// the correction. Duplicate pairs are kept once. A line that is not JSON
// is an error naming its line number.
func LoadPairs(r io.Reader) ([]Pair, error) {
	var out []Pair
	seen := map[string]bool{}
	err := eachLine(r, func(n int, line []byte) error {
		var rec struct {
			Pair
			Mode     string `json:"mode"`
			Fallback bool   `json:"fallback"`
		}
		if err := json.Unmarshal(line, &rec); err != nil {
			return fmt.Errorf("eval: records line %d: %w", n, err)
		}
		p := rec.Pair
		if strings.TrimSpace(p.Question) == "" || p.Original == "" || p.Corrected == "" || rec.Mode == "off" || rec.Fallback {
			return nil
		}
		p.ID = PairID(p.Question, p.Original, p.Corrected)
		if !seen[p.ID] {
			seen[p.ID] = true
			out = append(out, p)
		}
		return nil
	})
	return out, err
}

// LoadPrompts reads JSONL lines of {"question": ...}.
func LoadPrompts(r io.Reader) ([]string, error) {
	var out []string
	err := eachLine(r, func(n int, line []byte) error {
		var q struct {
			Question string `json:"question"`
		}
		if err := json.Unmarshal(line, &q); err != nil {
			return fmt.Errorf("eval: prompts line %d: %w", n, err)
		}
		if strings.TrimSpace(q.Question) == "" {
			return fmt.Errorf("eval: prompts line %d: empty question", n)
		}
		out = append(out, q.Question)
		return nil
	})
	return out, err
}

// eachLine calls fn for every non-blank line with its 1-based number.
func eachLine(r io.Reader, fn func(n int, line []byte) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	for n := 1; sc.Scan(); n++ {
		line := sc.Bytes()
		if len(strings.TrimSpace(string(line))) == 0 {
			continue
		}
		if err := fn(n, line); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("eval: read: %w", err)
	}
	return nil
}
