package eval

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden (run go test -update):\n%s", name, got)
	}
}

func sampleReport() *Report {
	p := pair(`<script>alert("q")</script> & co`, "You <b>should</b> do it.", "You should not do it & stop.")
	rs := []PairResult{
		{Pair: p, Outcomes: map[Dimension]Outcome{Helpfulness: Win, Harmlessness: Tie}},
		{Pair: pair("q2", "a", "b"), Outcomes: map[Dimension]Outcome{Helpfulness: Loss, Harmlessness: Unparsable}},
		{Pair: pair("q3", "a", "c"), Outcomes: map[Dimension]Outcome{Helpfulness: Win, Harmlessness: Failed}},
	}
	rep := &Report{Judge: "gpt-judge`x", Pairs: rs}
	for _, d := range DefaultDimensions {
		rep.Dimensions = append(rep.Dimensions, Summarize(d, rs, 200, 1))
	}
	return rep
}

func TestWriteMarkdown(t *testing.T) {
	var b bytes.Buffer
	if err := sampleReport().WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.md", b.Bytes())
}

func TestWriteHTMLEscapes(t *testing.T) {
	var b bytes.Buffer
	if err := sampleReport().WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	html := b.String()
	for _, bad := range []string{"<script>alert", "<b>should</b>"} {
		if strings.Contains(html, bad) {
			t.Errorf("unescaped %q in HTML", bad)
		}
	}
	for _, want := range []string{
		"&lt;script&gt;alert(&#34;q&#34;)&lt;/script&gt; &amp; co",
		"<ins>not </ins>",
		"&lt;b&gt;should&lt;/b&gt;",
		`class="win" style="width: 66.67%"`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	for _, external := range []string{"<link", "src=", "http://", "https://"} {
		if strings.Contains(html, external) {
			t.Errorf("HTML references external assets: %q", external)
		}
	}
	golden(t, "report.html", b.Bytes())
}
