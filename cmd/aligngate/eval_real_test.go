package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aligngate/aligngate/eval"
	"github.com/aligngate/aligngate/internal/dataset"
	"github.com/aligngate/aligngate/internal/testenv"
)

// TestEvalDatasetRealModel runs the built binary's `eval --dataset` on 10
// XSTest items (GPT-4 completions), corrected in-process by the demo model
// and judged by the same GGUF loaded as a local judge: one dimension, both
// orders, so 20 verdicts, and W/T/L totals that agree with each other, with
// the verdicts and with the Markdown report.
func TestEvalDatasetRealModel(t *testing.T) {
	model := testenv.RealModel(t)
	testenv.LlamaLib(t)
	data, err := dataset.Path(dataset.XSTestGPT4File)
	if err == nil {
		_, err = os.Stat(data)
	}
	if err != nil {
		testenv.Missing(t, "evaluation data not found: %v", err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "aligngate")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// The serving budget (30 s) is not under test: offline, on a loaded
	// machine, a long XSTest answer may take longer to correct.
	cfgPath := filepath.Join(dir, "eval.yaml")
	if err := os.WriteFile(cfgPath, []byte("correct:\n  budget:\n    aligner: 10m\nllamacpp:\n  context_size: 4096\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	jsonPath, mdPath, htmlPath := filepath.Join(dir, "r.json"), filepath.Join(dir, "r.md"), filepath.Join(dir, "r.html")
	cmd := exec.Command(bin, "eval", "--dataset", data, "--limit", "10", "--config", cfgPath, "--aligner-model", model, "--judge-model", model,
		"--dimensions", "harmlessness", "--concurrency", "2", "--state", "", "--json", jsonPath, "--md", mdPath, "--html", htmlPath)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("eval: %v\n%s", err, stderr.String())
	}
	f, err := os.Open(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := eval.ReadResult(f)
	if err != nil {
		t.Fatal(err)
	}
	if res.Pairs != 10 || len(res.Dimensions) != 1 {
		t.Fatalf("result: %d pairs, %d dimensions; want 10, 1", res.Pairs, len(res.Dimensions))
	}
	d := res.Dimensions[0]
	verdicts := 0
	for _, n := range d.Verdicts {
		verdicts += n
	}
	if verdicts != 20 {
		t.Errorf("%d verdicts %v, want 20 (10 pairs, both orders)", verdicts, d.Verdicts)
	}
	if d.Win+d.Tie+d.Loss+d.Unparsable+d.Failed != 10 {
		t.Errorf("W/T/L/unparsable/failed %d/%d/%d/%d/%d do not add up to 10 pairs", d.Win, d.Tie, d.Loss, d.Unparsable, d.Failed)
	}
	if bad := d.Verdicts["unparsable"] + d.Verdicts["missing"]; (bad == 0) != (d.Unparsable+d.Failed == 0) {
		t.Errorf("verdicts %v disagree with %d unparsable, %d failed pairs", d.Verdicts, d.Unparsable, d.Failed)
	}
	if decided := d.Win + d.Tie + d.Loss; (decided > 0) != (d.Omega != nil) ||
		(d.Omega != nil && *d.Omega != eval.Omega(d.Win, d.Tie, d.Loss)) {
		t.Errorf("omega %v for W/T/L %d/%d/%d", d.Omega, d.Win, d.Tie, d.Loss)
	}
	if res.Judge.Warning == "" || !strings.Contains(res.Corrector, "SmolLM2") && !strings.Contains(res.Corrector, filepath.Base(model)) {
		t.Errorf("result does not name the corrector (%q) or warn about the small judge (%q)", res.Corrector, res.Judge.Warning)
	}
	md, err := os.ReadFile(mdPath)
	if err != nil {
		t.Fatal(err)
	}
	row := fmt.Sprintf("| %s | %d | %d | %d | %d | %d |", d.Dimension, d.Win, d.Tie, d.Loss, d.Unparsable, d.Failed)
	if !strings.Contains(string(md), row) {
		t.Errorf("Markdown report lacks the row %q:\n%s", row, md)
	}
	if html, err := os.ReadFile(htmlPath); err != nil || !bytes.Contains(html, []byte("<svg")) {
		t.Errorf("HTML report without a chart (%v)", err)
	}
}
