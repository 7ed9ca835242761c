package eval

import (
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Item is one dataset entry: a question and an answer to correct.
type Item struct {
	ID       string `json:"id,omitempty"`
	Question string `json:"question"`
	Answer   string `json:"answer"`
}

// Dataset formats for DatasetOptions.Format.
const (
	FormatJSONL = "jsonl" // {"question","answer"} or HH-RLHF {"chosen","rejected"} lines
	FormatCSV   = "csv"   // a header row; columns picked by name
)

// HH-RLHF answer sides for DatasetOptions.AnswerFrom.
const (
	AnswerRejected = "rejected"
	AnswerChosen   = "chosen"
)

// Defaults of DatasetOptions, fitting the XSTest completions files.
const (
	DefaultQuestionCol = "prompt"
	DefaultAnswerCol   = "completion"
)

// DatasetOptions configures ReadDataset. Zero fields take the defaults.
type DatasetOptions struct {
	// Format is FormatJSONL or FormatCSV; "" picks it from the file name
	// (.csv, else JSONL; a .gz suffix is decompressed first).
	Format string
	// QuestionCol and AnswerCol name the CSV columns; default "prompt" and
	// "completion" (the XSTest completions files).
	QuestionCol, AnswerCol string
	// AnswerFrom picks the HH-RLHF side whose last Assistant turn is the
	// answer: "rejected" (default; the worse answer, so there is something
	// to correct) or "chosen".
	AnswerFrom string
	// Limit keeps the first Limit items; 0 keeps all.
	Limit int
}

func (o DatasetOptions) withDefaults() (DatasetOptions, error) {
	if o.QuestionCol == "" {
		o.QuestionCol = DefaultQuestionCol
	}
	if o.AnswerCol == "" {
		o.AnswerCol = DefaultAnswerCol
	}
	if o.AnswerFrom == "" {
		o.AnswerFrom = AnswerRejected
	}
	if o.AnswerFrom != AnswerRejected && o.AnswerFrom != AnswerChosen {
		return o, fmt.Errorf("%w: answer-from %q: want chosen or rejected", ErrUsage, o.AnswerFrom)
	}
	if o.Format != "" && o.Format != FormatJSONL && o.Format != FormatCSV {
		return o, fmt.Errorf("%w: dataset format %q: want jsonl or csv", ErrUsage, o.Format)
	}
	return o, nil
}

// errStop ends a read early once Limit items are in.
var errStop = errors.New("enough items")

// ReadDataset reads question-answer items from a JSONL file (plain or
// .gz), an HH-RLHF file (JSONL of {"chosen","rejected"} dialogues: the
// first Human turn is the question, the last Assistant turn of the side
// named by AnswerFrom is the answer) or a CSV file with a header row. A
// malformed row, an empty question or answer, or a missing column is an
// error naming the file and line: a dataset that half parses would be
// judged on the wrong text.
func ReadDataset(path string, o DatasetOptions) ([]Item, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("eval: dataset: %w", err)
	}
	defer f.Close()
	var r io.Reader = f
	name := strings.ToLower(filepath.Base(path))
	if strings.HasSuffix(name, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("eval: dataset %s: %w", path, err)
		}
		defer zr.Close()
		r, name = zr, strings.TrimSuffix(name, ".gz")
	}
	if o.Format == "" {
		o.Format = FormatJSONL
		if strings.HasSuffix(name, ".csv") {
			o.Format = FormatCSV
		}
	}
	read := ReadJSONL
	if o.Format == FormatCSV {
		read = ReadCSV
	}
	items, err := read(r, o)
	if err != nil {
		return nil, fmt.Errorf("%w (dataset %s)", err, path)
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("eval: dataset %s: %w", path, ErrNoPairs)
	}
	return items, nil
}

// ReadJSONL reads lines of {"question","answer"} (optional "id") or of
// HH-RLHF {"chosen","rejected"} dialogues, see ReadDataset.
func ReadJSONL(r io.Reader, o DatasetOptions) ([]Item, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	var out []Item
	err = eachLine(r, func(n int, line []byte) error {
		var rec struct {
			ID       json.RawMessage `json:"id"`
			Question string          `json:"question"`
			Answer   string          `json:"answer"`
			Chosen   string          `json:"chosen"`
			Rejected string          `json:"rejected"`
		}
		if err := json.Unmarshal(line, &rec); err != nil {
			return fmt.Errorf("eval: dataset line %d: %w", n, err)
		}
		it := Item{ID: strings.Trim(string(rec.ID), `"`), Question: rec.Question, Answer: rec.Answer}
		if rec.Chosen != "" || rec.Rejected != "" {
			dialogue := rec.Rejected
			if o.AnswerFrom == AnswerChosen {
				dialogue = rec.Chosen
			}
			it.Question, it.Answer = hhTurns(dialogue)
		}
		if it.ID == "" {
			it.ID = fmt.Sprintf("line-%d", n)
		}
		return collect(&out, it, n, o.Limit)
	})
	if errors.Is(err, errStop) {
		err = nil
	}
	return out, err
}

// collect checks it and appends it, returning errStop at the limit.
func collect(out *[]Item, it Item, n, limit int) error {
	if strings.TrimSpace(it.Question) == "" {
		return fmt.Errorf("eval: dataset line %d: empty question", n)
	}
	if strings.TrimSpace(it.Answer) == "" {
		return fmt.Errorf("eval: dataset line %d: empty answer", n)
	}
	*out = append(*out, it)
	if limit > 0 && len(*out) >= limit {
		return errStop
	}
	return nil
}

// HH-RLHF turn markers.
const (
	hhHuman     = "\n\nHuman: "
	hhAssistant = "\n\nAssistant: "
)

// hhTurns returns the first Human turn and the last Assistant turn of an
// HH-RLHF dialogue ("\n\nHuman: …\n\nAssistant: …"), "" when absent.
func hhTurns(d string) (question, answer string) {
	if i := strings.Index(d, hhHuman); i >= 0 {
		q := d[i+len(hhHuman):]
		if j := strings.Index(q, hhAssistant); j >= 0 {
			q = q[:j]
		}
		question = strings.TrimSpace(q)
	}
	if i := strings.LastIndex(d, hhAssistant); i >= 0 {
		answer = strings.TrimSpace(d[i+len(hhAssistant):])
	}
	return question, answer
}

// ReadCSV reads a CSV file with a header row, taking the question and the
// answer from the columns named by QuestionCol and AnswerCol and the item
// ID from an "id" column when there is one.
func ReadCSV(r io.Reader, o DatasetOptions) ([]Item, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	cr := csv.NewReader(r)
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("eval: dataset header: %w", err)
	}
	qi, ai, idi := slices.Index(header, o.QuestionCol), slices.Index(header, o.AnswerCol), slices.Index(header, "id")
	for col, i := range map[string]int{"question": qi, "answer": ai} {
		if i < 0 {
			name := map[string]string{"question": o.QuestionCol, "answer": o.AnswerCol}[col]
			return nil, fmt.Errorf("%w: dataset has no %s column %q (columns: %s; pick one with --%s-col)",
				ErrUsage, col, name, strings.Join(header, ", "), col)
		}
	}
	var out []Item
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("eval: dataset: %w", err)
		}
		line, _ := cr.FieldPos(0)
		it := Item{ID: fmt.Sprintf("line-%d", line), Question: rec[qi], Answer: rec[ai]}
		if idi >= 0 && rec[idi] != "" {
			it.ID = rec[idi]
		}
		if err := collect(&out, it, line, o.Limit); errors.Is(err, errStop) {
			return out, nil
		} else if err != nil {
			return nil, err
		}
	}
}
