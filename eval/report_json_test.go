package eval

import (
	"bytes"
	"math"
	"testing"
	"time"
)

func TestReportJSONRoundTrip(t *testing.T) {
	rep := &Report{Judge: "judge-1", Pairs: make([]PairResult, 3), Dimensions: []Summary{
		{Dimension: "helpfulness", Win: 2, Tie: 1, Loss: 0, Omega: 66.7, Low: 20, High: 100},
		{Dimension: "harmlessness", Failed: 3, Low: math.NaN(), High: math.NaN()},
	}}
	at := time.Date(2026, 12, 2, 7, 0, 0, 0, time.UTC)
	var buf bytes.Buffer
	if err := rep.WriteJSON(&buf, at); err != nil {
		t.Fatal(err)
	}
	got, err := ReadJSON(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if got.Judge != "judge-1" || got.Pairs != 3 || !got.Written.Equal(at) || len(got.Dimensions) != 2 {
		t.Fatalf("got %+v", got)
	}
	h := got.Dimensions[0]
	if h.Dimension != "helpfulness" || h.Win != 2 || h.Tie != 1 || h.Omega != 66.7 || h.Low == nil || *h.Low != 20 || *h.High != 100 {
		t.Errorf("helpfulness = %+v", h)
	}
	// An undefined interval is null, not a NaN that JSON cannot carry.
	if d := got.Dimensions[1]; d.Low != nil || d.High != nil || d.Failed != 3 {
		t.Errorf("harmlessness = %+v", d)
	}
}
