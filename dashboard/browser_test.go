package dashboard

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aligngate/aligngate/internal/testenv"
	"github.com/aligngate/aligngate/policies"
	"github.com/aligngate/aligngate/telemetry"
)

const nodeDir = "../test/node"

// TestDashboardBrowser drives the page in headless Chromium: the node
// script logs in, says "ready", and must then see the record this test
// adds appear, open it, find its diff and the experiment's two arms.
func TestDashboardBrowser(t *testing.T) {
	node, chromium := testenv.Browser(t, nodeDir)
	artifacts := os.Getenv("ALIGNGATE_ARTIFACTS")
	if artifacts == "" {
		artifacts = os.TempDir()
	}
	tel := metricsFor(t)
	d, err := New(Config{AdminKey: testKey, CaptureContent: true, SampleEvery: 200 * time.Millisecond},
		Options{Metrics: tel.Gatherer()})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(d.Handler())
	defer func() { srv.Close(); _ = d.Close() }()

	seed := []policies.Record{contentRecord("helpfulness", "control"), contentRecord("helpfulness", "treatment")}
	seed[0].Corrected, seed[0].Mode = false, "off"
	seed[1].Fallback, seed[1].FallbackReason, seed[1].Corrected = true, "timeout", false
	for _, r := range seed {
		d.Record(r)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "dashboard.test.mjs")
	cmd.Dir = nodeDir
	cmd.Env = append(os.Environ(), "ALIGNGATE_UI_URL="+srv.URL, "ALIGNGATE_ADMIN_KEY="+testKey,
		"ALIGNGATE_ARTIFACTS="+artifacts, "CHROMIUM="+chromium)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := readLines(t, stdout, func() {
		serveMetered(tel, "helpfulness", "treatment", telemetry.OutcomeCorrected, telemetry.CacheMiss)
		d.Record(quokkaRecord())
	})
	if err := cmd.Wait(); err != nil {
		t.Fatalf("node dashboard.test.mjs: %v\nstdout:\n%s\nstderr:\n%s", err, lines, stderr.String())
	}
	if !strings.Contains(lines, "\nok\n") {
		t.Fatalf("node script did not finish:\n%s\n%s", lines, stderr.String())
	}
	t.Logf("%s", lines)
}

// readLines collects the script's stdout, calling onReady once at "ready".
func readLines(t *testing.T, r io.Reader, onReady func()) string {
	t.Helper()
	var b strings.Builder
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		b.WriteString(line + "\n")
		if line == "ready" {
			onReady()
		}
	}
	return "\n" + b.String()
}

// quokkaRecord is the correction the page must show once it is loaded.
func quokkaRecord() policies.Record {
	r := contentRecord("helpfulness", "treatment")
	r.Question = "Where does the quokka sleep?"
	r.OriginalAnswer = "The quokka naps under a warm rock."
	r.CorrectedAnswer = "The quokka rests under a shaded rock."
	r.Cache, r.LatencyMS, r.UpstreamMS, r.CorrectionMS = "miss", 830, 610, 220
	r.DraftTokens, r.DraftAccepted = 40, 31
	return r
}

// metricsFor returns real telemetry with a few requests observed, so the
// page's health cards, arm latencies and charts read the same registry
// /metrics serves.
func metricsFor(t *testing.T) *telemetry.Telemetry {
	t.Helper()
	tel, err := telemetry.New(context.Background(), telemetry.Config{}, telemetry.Options{LogWriter: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	serveMetered(tel, "helpfulness", "control", telemetry.OutcomeUnchanged, telemetry.CacheHit)
	serveMetered(tel, "helpfulness", "treatment", telemetry.OutcomeFallback+"timeout", telemetry.CacheMiss)
	return tel
}

// serveMetered runs one request through telemetry's middleware, observing
// what the proxy observes for a corrected chat completion.
func serveMetered(tel *telemetry.Telemetry, exp, arm, outcome, cacheOutcome string) {
	h := tel.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		tel.Metrics.Assignment(ctx, exp, arm)
		tel.Metrics.Cache(ctx, cacheOutcome)
		tel.Metrics.Upstream(ctx, r.URL.Path, http.StatusOK, 600*time.Millisecond, 200*time.Millisecond)
		tel.Metrics.Correction(ctx, "full", "local", outcome, 220*time.Millisecond, 48)
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/v1/chat/completions", nil))
}
