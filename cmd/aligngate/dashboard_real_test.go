package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aligngate/aligngate/config"
	"github.com/aligngate/aligngate/internal/testenv"
)

// TestDashboardShowsProxiedCorrection runs aligngate as serve builds it
// (real model in-process, dashboard on, content captured) and drives /ui in
// headless Chromium: after the page is loaded, a chat request through the
// proxy is corrected, and its record appears with the question, the
// upstream's answer, the correction served and the highlighted change.
func TestDashboardShowsProxiedCorrection(t *testing.T) {
	model, lib := testenv.RealModel(t), testenv.LlamaLib(t)
	node, chromium := testenv.Browser(t, "../../test/node")
	q, answer := hhExample(t)
	up := httptest.NewServer(fakeChatUpstream(answer))
	defer up.Close()
	const key = "dashboard-e2e-key"
	cfg := config.Default()
	cfg.Upstreams = []config.Upstream{{Name: "fake", BaseURL: up.URL + "/v1"}}
	cfg.Policies.Default.Mode = "aligner"
	cfg.Policies.Records.Sink = "off"
	cfg.Dashboard.AdminKey = key
	cfg.Telemetry.CaptureContent = true
	cfg.LlamaCpp.ModelPath, cfg.LlamaCpp.LibDir = model, lib
	cfg.LlamaCpp.Parallel, cfg.LlamaCpp.Threads = 1, 1
	cfg.Correct.Budget.Aligner = 10 * time.Minute
	cfg.SetDefaults()
	a, err := build(t.Context(), cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer a.close(context.Background())
	ps := httptest.NewServer(a.srv.Handler())
	defer ps.Close()

	// One correction before the page loads (the list is not empty), one
	// after: the cache serves the same correction again.
	corrected := plainWhole(t, ps.URL, q)
	if corrected == answer {
		t.Fatalf("the model left the answer as it was: %q", answer)
	}
	expect, _ := json.Marshal(map[string]string{"question": q, "original": answer, "corrected": corrected})
	artifacts := os.Getenv("ALIGNGATE_ARTIFACTS")
	if artifacts == "" {
		artifacts = t.TempDir()
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "dashboard.test.mjs")
	cmd.Dir = "../../test/node"
	cmd.Env = append(os.Environ(), "ALIGNGATE_UI_URL="+ps.URL, "ALIGNGATE_ADMIN_KEY="+key, "ALIGNGATE_EXPECT="+string(expect),
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
	var lines strings.Builder
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		lines.WriteString(sc.Text() + "\n")
		if sc.Text() == "ready" {
			if got := plainWhole(t, ps.URL, q); got != corrected {
				t.Errorf("second request served %q, first %q", got, corrected)
			}
		}
	}
	if err := cmd.Wait(); err != nil || !strings.Contains(lines.String(), "\nok\n") {
		t.Fatalf("node dashboard.test.mjs: %v\nstdout:\n%s\nstderr:\n%s", err, lines.String(), stderr.String())
	}
	t.Logf("%s", lines.String())
}
