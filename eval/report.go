package eval

import (
	"embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"
	"time"
)

//go:embed templates/report.html.tmpl
var templates embed.FS

var htmlReport = template.Must(template.New("report.html.tmpl").Funcs(template.FuncMap{
	"pct":     func(v float64) string { return fmt.Sprintf("%+.1f%%", v) },
	"share":   share,
	"diff":    WordDiff,
	"isEqual": func(op Op) bool { return op == Equal },
	"isDel":   func(op Op) bool { return op == Delete },
	"outcome": func(r PairResult, d Dimension) Outcome { return r.Outcomes[d] },
	"chart":   chart,
}).ParseFS(templates, "templates/report.html.tmpl"))

// share returns n as a percentage of the summary's judged pairs, for bar
// widths.
func share(s Summary, n int) string {
	total := s.Win + s.Tie + s.Loss + s.Unparsable + s.Failed
	if total == 0 {
		return "0"
	}
	return fmt.Sprintf("%.2f", float64(n)/float64(total)*100)
}

// WriteMarkdown writes the summary table, preceded by what was corrected
// by what and the small-judge warning when About says so. A dimension
// with no decided pair shows n/a and a note with the unparsable count.
func (r *Report) WriteMarkdown(w io.Writer) error {
	var sb strings.Builder
	fmt.Fprintf(&sb, "# aligngate eval\n\nJudge: `%s`. Pairs: %d. Each pair judged in both orders; ω = (W − L) / (W + L + T).\n\n", mdEscape(r.Judge), len(r.Pairs))
	r.About.writeMarkdown(&sb)
	sb.WriteString("| dimension | W | T | L | unparsable | failed | ω | 95% CI |\n|---|---:|---:|---:|---:|---:|---:|---|\n")
	for _, s := range r.Dimensions {
		fmt.Fprintf(&sb, "| %s | %d | %d | %d | %d | %d | %s | %s |\n",
			s.Dimension, s.Win, s.Tie, s.Loss, s.Unparsable, s.Failed, s.OmegaText(), s.CI())
	}
	for _, s := range r.Dimensions {
		if note := s.NoVerdictNote(); note != "" {
			fmt.Fprintf(&sb, "\n%s.\n", note)
		}
	}
	if _, err := io.WriteString(w, sb.String()); err != nil {
		return fmt.Errorf("eval: markdown: %w", err)
	}
	return nil
}

// writeMarkdown writes a list of what is set, then the warning.
func (a About) writeMarkdown(sb *strings.Builder) {
	n := 0
	line := func(label, v string) {
		if v != "" {
			fmt.Fprintf(sb, "- %s: %s\n", label, v)
			n++
		}
	}
	line("Dataset", code(a.Dataset))
	line("Corrector", code(a.Corrector))
	if a.JudgeKind != "" {
		line("Judge kind", a.JudgeDescription())
	}
	if !a.Started.IsZero() {
		line("Run", fmt.Sprintf("%s, %s", a.Started.UTC().Format(time.RFC3339), a.Duration.Round(time.Millisecond)))
	}
	if a.Skipped > 0 {
		line("Left out", fmt.Sprintf("%d items whose correction failed", a.Skipped))
	}
	if n > 0 {
		sb.WriteString("\n")
	}
	if w := a.Warning(); w != "" {
		fmt.Fprintf(sb, "> **Warning:** %s\n\n", w)
	}
}

// JudgeDescription says what kind of judge ran.
func (a About) JudgeDescription() string {
	switch a.JudgeKind {
	case JudgeLocal:
		size := a.JudgeSize
		if size == "" {
			size = "size unknown"
		}
		return fmt.Sprintf("local GGUF model loaded in-process (%s parameters)", size)
	case JudgeEndpoint:
		return "OpenAI-compatible endpoint " + code(a.JudgeURL)
	}
	return a.JudgeKind
}

func code(s string) string {
	if s == "" {
		return ""
	}
	return "`" + mdEscape(s) + "`"
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "`", "'") }

// WriteHTML writes a self-contained HTML report (no external assets):
// a bar per dimension and, per pair, the original and corrected answers
// side by side with a word diff. All text is HTML-escaped.
func (r *Report) WriteHTML(w io.Writer) error {
	if err := htmlReport.Execute(w, r); err != nil {
		return fmt.Errorf("eval: html: %w", err)
	}
	return nil
}

// CI formats the 95% interval of ω, or "n/a" when ω is undefined.
func (s Summary) CI() string {
	if !s.Valid() || math.IsNaN(s.Low) || math.IsNaN(s.High) {
		return "n/a"
	}
	return fmt.Sprintf("[%+.1f%%, %+.1f%%]", s.Low, s.High)
}
