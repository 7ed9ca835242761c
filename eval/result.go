package eval

import (
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// Result is the machine-readable summary of a run (the --json file), for
// dashboards showing the latest eval. Omega, Low and High are null when
// no pair was decided.
type Result struct {
	Time       time.Time   `json:"time"`
	DurationS  float64     `json:"duration_s"`
	Dataset    string      `json:"dataset,omitempty"`
	Corrector  string      `json:"corrector,omitempty"`
	Judge      JudgeResult `json:"judge"`
	Pairs      int         `json:"pairs"`
	Skipped    int         `json:"skipped"`
	Dimensions []DimResult `json:"dimensions"`
}

// JudgeResult describes the judge in a Result.
type JudgeResult struct {
	Name    string `json:"name"`
	Kind    string `json:"kind,omitempty"`
	URL     string `json:"url,omitempty"`
	Size    string `json:"size,omitempty"`
	Warning string `json:"warning,omitempty"`
}

// DimResult is one dimension of a Result. Verdicts counts the single
// judge verdicts by kind ("A", "B", "equal", "unparsable", "missing" for
// failed calls), two per pair.
type DimResult struct {
	Dimension  Dimension      `json:"dimension"`
	Win        int            `json:"win"`
	Tie        int            `json:"tie"`
	Loss       int            `json:"loss"`
	Unparsable int            `json:"unparsable"`
	Failed     int            `json:"failed"`
	Omega      *float64       `json:"omega"`
	Low        *float64       `json:"ci_low"`
	High       *float64       `json:"ci_high"`
	Verdicts   map[string]int `json:"verdicts"`
}

// Result returns the report's machine-readable summary.
func (r *Report) Result() Result {
	a := r.About
	res := Result{
		Time: a.Started.UTC(), DurationS: a.Duration.Seconds(), Dataset: a.Dataset, Corrector: a.Corrector,
		Judge: JudgeResult{Name: r.Judge, Kind: a.JudgeKind, URL: a.JudgeURL, Size: a.JudgeSize, Warning: a.Warning()},
		Pairs: len(r.Pairs), Skipped: a.Skipped,
	}
	for _, s := range r.Dimensions {
		d := DimResult{Dimension: s.Dimension, Win: s.Win, Tie: s.Tie, Loss: s.Loss, Unparsable: s.Unparsable,
			Failed: s.Failed, Verdicts: r.VerdictCounts(s.Dimension)}
		if s.Valid() {
			d.Omega, d.Low, d.High = &s.Omega, &s.Low, &s.High
		}
		res.Dimensions = append(res.Dimensions, d)
	}
	return res
}

// VerdictCounts counts a dimension's single verdicts by kind, two per
// pair; identical answers count as two "equal" verdicts (no call made).
func (r *Report) VerdictCounts(d Dimension) map[string]int {
	n := map[string]int{}
	for _, p := range r.Pairs {
		for _, v := range p.Verdicts[d] {
			if v == "" {
				n["missing"]++
				continue
			}
			n[string(v)]++
		}
	}
	return n
}

// WriteJSON writes Result as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	b, err := json.MarshalIndent(r.Result(), "", "  ")
	if err != nil {
		return fmt.Errorf("eval: json: %w", err)
	}
	if _, err := w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("eval: json: %w", err)
	}
	return nil
}

// ReadResult reads a summary written by WriteJSON (the dashboard shows the
// latest one).
func ReadResult(r io.Reader) (*Result, error) {
	var out Result
	if err := json.NewDecoder(r).Decode(&out); err != nil {
		return nil, fmt.Errorf("eval: read json result: %w", err)
	}
	return &out, nil
}
