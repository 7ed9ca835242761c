package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// TestEvalNoValidVerdict runs eval against a judge whose every reply is
// unparsable: ω is printed as n/a with the count of unparsable pairs, never
// as +0.0%, and the judge got the key from JUDGE_API_KEY.
func TestEvalNoValidVerdict(t *testing.T) {
	var calls, keyed atomic.Int32
	judge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.Header.Get("Authorization") == "Bearer judge-secret" {
			keyed.Add(1)
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"id":"j","object":"chat.completion","created":1,"model":"judge","choices":[{"index":0,"message":{"role":"assistant","content":"I cannot decide."},"finish_reason":"stop"}]}`)
	}))
	defer judge.Close()
	dir := t.TempDir()
	var recs strings.Builder
	for i := range 2 {
		b, _ := json.Marshal(map[string]any{"experiment": "e", "arm": "treatment", "mode": "aligner", "corrected": true,
			"question": fmt.Sprintf("Question %d?", i), "original_answer": "Original.", "corrected_answer": "Corrected."})
		recs.Write(append(b, '\n'))
	}
	if err := os.WriteFile(filepath.Join(dir, "records.jsonl"), []byte(recs.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, dir, []string{"JUDGE_API_KEY=judge-secret"}, "eval", "--records", "records.jsonl",
		"--judge-url", judge.URL+"/v1", "--judge-model", "judge", "--retries", "0", "--dimensions", "helpfulness")
	if r.code != 0 {
		t.Fatalf("eval failed: %+v", r)
	}
	if calls.Load() == 0 || keyed.Load() != calls.Load() {
		t.Errorf("judge calls %d, with JUDGE_API_KEY %d", calls.Load(), keyed.Load())
	}
	if strings.Contains(r.stdout, "+0.0%") {
		t.Errorf("ω printed as +0.0%% without a valid verdict:\n%s", r.stdout)
	}
	if !strings.Contains(r.stdout, "n/a") || !strings.Contains(r.stdout, "2 pairs unparsable") {
		t.Errorf("report does not say n/a and how many were unparsable:\n%s", r.stdout)
	}
}
