package eval

import (
	"fmt"
	"html"
	"html/template"
	"strings"
)

// Chart geometry, in SVG user units.
const (
	chartLabelW = 120 // dimension names
	chartBarW   = 360 // stacked W/T/L/unparsable/failed bar
	chartGap    = 30
	chartOmegaW = 300 // ω axis from -100% to +100%
	chartRowH   = 44
	chartTop    = 28
)

// chartSegments are the bar's parts in order, with their colours (the
// same as the HTML legend).
var chartSegments = []struct {
	class, color string
	count        func(Summary) int
}{
	{"win", "#3a9d4a", func(s Summary) int { return s.Win }},
	{"tie", "#bbbbbb", func(s Summary) int { return s.Tie }},
	{"loss", "#d0453a", func(s Summary) int { return s.Loss }},
	{"unparsable", "#e8c547", func(s Summary) int { return s.Unparsable }},
	{"failed", "#555555", func(s Summary) int { return s.Failed }},
}

// chart draws, per dimension, a bar of the pair outcomes and ω with its
// 95% interval on a -100%..+100% axis, as inline SVG (no script, no
// external asset). A dimension without a decided pair shows "n/a".
func chart(dims []Summary) template.HTML {
	width := chartLabelW + chartBarW + chartGap + chartOmegaW + 20
	height := chartTop + chartRowH*len(dims) + 10
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="outcomes and ω per dimension">`, width, height, width, height)
	ox := chartLabelW + chartBarW + chartGap
	fmt.Fprintf(&b, `<text x="%d" y="14" font-size="12">pairs: win / tie / loss / unparsable / failed</text>`, chartLabelW)
	fmt.Fprintf(&b, `<text x="%d" y="14" font-size="12">ω, 95%% interval</text>`, ox)
	for _, x := range []int{-100, 0, 100} {
		px := ox + (x+100)*chartOmegaW/200
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#999" stroke-dasharray="2,2"/>`, px, chartTop-6, px, height-10)
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="10" text-anchor="middle">%+d%%</text>`, px, height, x)
	}
	for i, s := range dims {
		chartRow(&b, s, chartTop+i*chartRowH)
	}
	b.WriteString(`</svg>`)
	// Only numbers and escaped dimension names go in: safe as HTML.
	return template.HTML(b.String()) //nolint:gosec
}

// chartRow draws one dimension at height y.
func chartRow(b *strings.Builder, s Summary, y int) {
	name := html.EscapeString(string(s.Dimension))
	fmt.Fprintf(b, `<text x="0" y="%d" font-size="13">%s</text>`, y+16, name)
	total := s.Win + s.Tie + s.Loss + s.Unparsable + s.Failed
	x := float64(chartLabelW)
	for _, seg := range chartSegments {
		n := seg.count(s)
		if n == 0 || total == 0 {
			continue
		}
		w := float64(n) / float64(total) * chartBarW
		fmt.Fprintf(b, `<rect class="%s" x="%.1f" y="%d" width="%.1f" height="22" fill="%s"><title>%s %s: %d</title></rect>`, seg.class, x, y, w, seg.color, name, seg.class, n)
		if w >= 16 {
			fmt.Fprintf(b, `<text x="%.1f" y="%d" font-size="11" text-anchor="middle" fill="#fff">%d</text>`, x+w/2, y+15, n)
		}
		x += w
	}
	ox := chartLabelW + chartBarW + chartGap
	px := func(v float64) float64 { return float64(ox) + (v+100)/200*chartOmegaW }
	if !s.Valid() {
		fmt.Fprintf(b, `<text class="na" x="%d" y="%d" font-size="13">n/a: no valid verdict (%d unparsable)</text>`, ox+6, y+16, s.Unparsable)
		return
	}
	fmt.Fprintf(b, `<line class="ci" x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#333" stroke-width="2"/>`, px(s.Low), y+11, px(s.High), y+11)
	for _, v := range []float64{s.Low, s.High} {
		fmt.Fprintf(b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#333"/>`, px(v), y+5, px(v), y+17)
	}
	fmt.Fprintf(b, `<circle class="omega" cx="%.1f" cy="%d" r="5" fill="#1f5fa8"><title>%s ω %s %s</title></circle>`, px(s.Omega), y+11, name, s.OmegaText(), s.CI())
}
