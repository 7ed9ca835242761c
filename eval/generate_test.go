package eval

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fakeTarget stands in for an aligngate instance: it answers by the
// X-Aligngate-Mode header, as aligngate does when the policy allows it.
func fakeTarget(t *testing.T, calls *atomic.Int32) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.Header.Get("Authorization") != "Bearer target-key" {
			http.Error(w, `{"error":{"message":"no key"}}`, http.StatusUnauthorized)
			return
		}
		var req struct {
			Model    string
			Messages []struct{ Content string }
		}
		json.NewDecoder(r.Body).Decode(&req)
		q := req.Messages[0].Content
		if q == "flaky" && calls.Load() <= 2 {
			http.Error(w, `{"error":{"message":"busy"}}`, http.StatusServiceUnavailable)
			return
		}
		answer := r.Header.Get(ModeHeader) + ":" + req.Model + ":" + q
		json.NewEncoder(w).Encode(map[string]any{"choices": []any{map[string]any{"message": map[string]any{"role": "assistant", "content": answer}}}})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestGenerate(t *testing.T) {
	var calls atomic.Int32
	srv := fakeTarget(t, &calls)
	path := filepath.Join(t.TempDir(), "pairs.jsonl")
	opts := GenerateOptions{
		Questions: []string{"flaky", "why?", "how?"}, Target: srv.URL, APIKey: "target-key", Model: "m1",
		PairsPath: path, Concurrency: 1, Retry: Retry{Attempts: 3, Base: time.Millisecond},
	}
	pairs, err := Generate(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(pairs, func(i, j int) bool { return pairs[i].Question < pairs[j].Question })
	if len(pairs) != 3 {
		t.Fatalf("got %d pairs", len(pairs))
	}
	for _, p := range pairs {
		if p.Original != "off:m1:"+p.Question || p.Corrected != "aligner:m1:"+p.Question || p.ID != PairID(p.Question, p.Original, p.Corrected) {
			t.Errorf("pair %+v", p)
		}
	}
	before := calls.Load()
	opts.Questions = append(opts.Questions, "new?")
	again, err := Generate(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := calls.Load() - before; got != 2 {
		t.Errorf("rerun made %d target calls, want 2 (only the new question)", got)
	}
	if len(again) != 4 {
		t.Errorf("rerun returned %d pairs, want 4", len(again))
	}

	opts.APIKey, opts.PairsPath = "wrong", ""
	if _, err := Generate(t.Context(), opts); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("bad target key: %v", err)
	}
}

func TestLoadPairs(t *testing.T) {
	in := strings.Join([]string{
		`{"experiment":"ab","arm":"treatment","question":"q1","original_answer":"a","corrected_answer":"b"}`,
		`{"experiment":"ab","arm":"control","unit_hash":"x","model":"m"}`,
		``,
		`{"question":"q1","original_answer":"a","corrected_answer":"b"}`,
		`{"question":"q2","original_answer":"a","corrected_answer":""}`,
		`{"question":"q3","original_answer":"c","corrected_answer":"d"}`,
		`{"arm":"control","mode":"off","question":"q4","original_answer":"e","corrected_answer":"e"}`,
		`{"arm":"treatment","mode":"aligner","fallback":true,"question":"q5","original_answer":"f","corrected_answer":"f"}`,
		`{"arm":"treatment","mode":"stream","question":"q6","original_answer":"g","corrected_answer":"h"}`,
	}, "\n")
	pairs, err := LoadPairs(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(pairs) != 3 || pairs[0].Question != "q1" || pairs[0].Arm != "treatment" || pairs[1].Question != "q3" || pairs[2].Question != "q6" {
		t.Errorf("pairs: %+v", pairs)
	}
	if _, err := LoadPairs(strings.NewReader("{}\nnot json\n")); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("bad line: %v", err)
	}
	qs, err := LoadPrompts(strings.NewReader(`{"question":"a"}` + "\n\n" + `{"question":"b"}`))
	if err != nil || len(qs) != 2 {
		t.Errorf("prompts %v %v", qs, err)
	}
	if _, err := LoadPrompts(strings.NewReader(`{"q":"a"}`)); err == nil {
		t.Error("empty question accepted")
	}
}
