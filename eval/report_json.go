package eval

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"time"
)

// JSONReport is the machine-readable form of a Report's summary, written by
// WriteJSON and read back by ReadJSON (the dashboard shows the latest one).
// Pairs and verdicts stay in the Markdown/HTML reports and the state file.
type JSONReport struct {
	Judge      string        `json:"judge"`
	Pairs      int           `json:"pairs"`
	Written    time.Time     `json:"written"`
	Dimensions []JSONSummary `json:"dimensions"`
}

// JSONSummary is one dimension's tally. Omega and its bounds are
// percentages; Low and High are null when the interval is undefined.
type JSONSummary struct {
	Dimension  Dimension `json:"dimension"`
	Win        int       `json:"win"`
	Tie        int       `json:"tie"`
	Loss       int       `json:"loss"`
	Unparsable int       `json:"unparsable"`
	Failed     int       `json:"failed"`
	Omega      float64   `json:"omega"`
	Low        *float64  `json:"low"`
	High       *float64  `json:"high"`
}

// WriteJSON writes the summary as one JSON object; at is the time stamp
// it carries (the caller's clock).
func (r *Report) WriteJSON(w io.Writer, at time.Time) error {
	out := JSONReport{Judge: r.Judge, Pairs: len(r.Pairs), Written: at.UTC(), Dimensions: []JSONSummary{}}
	for _, s := range r.Dimensions {
		out.Dimensions = append(out.Dimensions, JSONSummary{
			Dimension: s.Dimension, Win: s.Win, Tie: s.Tie, Loss: s.Loss,
			Unparsable: s.Unparsable, Failed: s.Failed, Omega: finite(s.Omega),
			Low: bound(s.Low), High: bound(s.High),
		})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("eval: json: %w", err)
	}
	return nil
}

// ReadJSON reads a report written by WriteJSON.
func ReadJSON(r io.Reader) (*JSONReport, error) {
	var out JSONReport
	if err := json.NewDecoder(r).Decode(&out); err != nil {
		return nil, fmt.Errorf("eval: read json report: %w", err)
	}
	return &out, nil
}

// bound maps an undefined interval bound (NaN) to null: JSON has no NaN.
func bound(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}
