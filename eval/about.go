package eval

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Judge kinds for About.JudgeKind.
const (
	JudgeEndpoint = "endpoint" // an OpenAI-compatible HTTP endpoint
	JudgeLocal    = "local"    // a GGUF model loaded in-process
)

// largeJudgeParams is the size from which a local judge gets no warning:
// below it, models follow the verdict format poorly and judge little
// better than chance.
const largeJudgeParams = 30e9

// About describes a run for the report; the caller fills it.
type About struct {
	Dataset   string        // input file
	Corrector string        // how corrections were made
	JudgeKind string        // JudgeEndpoint or JudgeLocal; "" unknown
	JudgeURL  string        // endpoint base URL, for JudgeEndpoint
	JudgeSize string        // parameter count label, e.g. "135M"; "" unknown
	Started   time.Time     // start of the run
	Duration  time.Duration // wall time of corrections and judging
	Skipped   int           // dataset items left out: their correction failed
}

// Warning returns the small-local-judge warning, or "" when none is due.
func (a About) Warning() string {
	if a.JudgeKind != JudgeLocal {
		return ""
	}
	if n, ok := sizeParams(a.JudgeSize); ok && n >= largeJudgeParams {
		return ""
	}
	size := a.JudgeSize
	if size == "" {
		size = "small (size unknown)"
	}
	return fmt.Sprintf("a %s local judge: these verdicts are not evidence of quality. "+
		"Small models follow the verdict format poorly and judge little better than chance; "+
		"use a strong judge (--judge-url) for results that mean something.", size)
}

// sizeLabel matches a parameter count in a model name: 135M, 1.7B, 7b.
var sizeLabel = regexp.MustCompile(`(?i)(?:^|[-_. ])(\d+(?:\.\d+)?)([mb])(?:$|[-_. ])`)

// SizeLabel returns the parameter count named in a model or file name
// ("SmolLM2-135M-Instruct.Q4_1.gguf" → "135M"), or "" when there is none.
func SizeLabel(name string) string {
	m := sizeLabel.FindStringSubmatch(name)
	if m == nil {
		return ""
	}
	return m[1] + strings.ToUpper(m[2])
}

// sizeParams converts a SizeLabel to a parameter count.
func sizeParams(label string) (float64, bool) {
	if len(label) < 2 {
		return 0, false
	}
	n, err := strconv.ParseFloat(label[:len(label)-1], 64)
	if err != nil {
		return 0, false
	}
	switch label[len(label)-1] {
	case 'M':
		return n * 1e6, true
	case 'B':
		return n * 1e9, true
	}
	return 0, false
}

// Valid reports whether the dimension has any decided pair (W + T + L > 0);
// without one ω is undefined and reported as n/a, not 0.
func (s Summary) Valid() bool { return s.Win+s.Tie+s.Loss > 0 }

// OmegaText formats ω, or "n/a" when it is undefined.
func (s Summary) OmegaText() string {
	if !s.Valid() {
		return "n/a"
	}
	return fmt.Sprintf("%+.1f%%", s.Omega)
}

// NoVerdictNote says why a dimension has no ω, or "" when it has one.
func (s Summary) NoVerdictNote() string {
	if s.Valid() {
		return ""
	}
	return fmt.Sprintf("%s: no valid verdict, ω is n/a (%d pairs unparsable, %d failed)", s.Dimension, s.Unparsable, s.Failed)
}
