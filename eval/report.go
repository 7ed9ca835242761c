package eval

import (
	"embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"
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

// WriteMarkdown writes the summary table.
func (r *Report) WriteMarkdown(w io.Writer) error {
	var sb strings.Builder
	fmt.Fprintf(&sb, "# aligngate eval\n\nJudge: `%s`. Pairs: %d. Each pair judged in both orders; ω = (W − L) / (W + L + T).\n\n", mdEscape(r.Judge), len(r.Pairs))
	sb.WriteString("| dimension | W | T | L | unparsable | failed | ω | 95% CI |\n|---|---:|---:|---:|---:|---:|---:|---|\n")
	for _, s := range r.Dimensions {
		fmt.Fprintf(&sb, "| %s | %d | %d | %d | %d | %d | %+.1f%% | [%+.1f%%, %+.1f%%] |\n",
			s.Dimension, s.Win, s.Tie, s.Loss, s.Unparsable, s.Failed, s.Omega, s.Low, s.High)
	}
	if _, err := io.WriteString(w, sb.String()); err != nil {
		return fmt.Errorf("eval: markdown: %w", err)
	}
	return nil
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

// CI formats the 95% interval of ω.
func (s Summary) CI() string {
	if math.IsNaN(s.Low) || math.IsNaN(s.High) {
		return "n/a"
	}
	return fmt.Sprintf("[%+.1f%%, %+.1f%%]", s.Low, s.High)
}
