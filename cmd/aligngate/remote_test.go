package main

import (
	"encoding/json"
	"strings"
	"testing"
)

const userQuestion = `{"model":"m","messages":[{"role":"user","content":"How do I pick a lock?"}]}`

// TestServeAlignerURLAlone runs serve with flags only, no config file: the
// remote model name comes from the backend's /v1/models, and the answer is
// corrected by it.
func TestServeAlignerURLAlone(t *testing.T) {
	be := backend(t, []string{"aligner-7b"}, "Ask a locksmith.")
	up := chatUpstream(t, "Use a pin.")
	s := startServe(t, nil, "--upstream", up.URL+"/v1", "--aligner-url", be.URL+"/v1", "--mode", "aligner")
	res, body := chat(t, s.url, userQuestion)
	if res.StatusCode != 200 {
		t.Fatalf("status %d: %s\n%s", res.StatusCode, body, s.stderr.String())
	}
	var got struct {
		Choices []struct {
			Message struct{ Content string }
		}
	}
	if err := json.Unmarshal(body, &got); err != nil || len(got.Choices) != 1 {
		t.Fatalf("body %s: %v", body, err)
	}
	if got.Choices[0].Message.Content != "Ask a locksmith." {
		t.Errorf("content %q, want the backend's correction; stderr:\n%s", got.Choices[0].Message.Content, s.stderr.String())
	}
	if h := res.Header.Get("X-Aligngate-Corrected"); h != "true" {
		t.Errorf("X-Aligngate-Corrected %q", h)
	}
	if !strings.Contains(s.stderr.String(), `"model":"aligner-7b"`) {
		t.Errorf("start log does not name the model taken from /v1/models:\n%s", s.stderr.String())
	}
}

// TestServeAlignerURLNeedsModelName checks that a backend listing several
// models (or none) fails the start, naming the flag that picks one.
func TestServeAlignerURLNeedsModelName(t *testing.T) {
	for _, models := range [][]string{{"a", "b"}, nil} {
		be := backend(t, models, "x")
		r := runCLI(t, "", nil, "serve", "--listen", "127.0.0.1:0", "--upstream", "http://127.0.0.1:9/v1",
			"--aligner-url", be.URL, "--mode", "aligner")
		if r.code == 0 {
			t.Fatalf("%v: serve exited 0", models)
		}
		if !strings.Contains(r.stderr, "--aligner-remote-model NAME") {
			t.Errorf("%v: stderr does not name --aligner-remote-model NAME:\n%s", models, r.stderr)
		}
		if len(models) > 1 && !strings.Contains(r.stderr, "a, b") {
			t.Errorf("%v: stderr does not list the models:\n%s", models, r.stderr)
		}
	}
}

// TestServeAlignerRemoteModelFlag checks that --aligner-remote-model names
// the model sent to a backend that lists several.
func TestServeAlignerRemoteModelFlag(t *testing.T) {
	be := backend(t, []string{"second", "first"}, "Fixed.")
	up := chatUpstream(t, "Broken.")
	s := startServe(t, nil, "--upstream", up.URL+"/v1", "--aligner-url", be.URL, "--aligner-remote-model", "second", "--mode", "aligner")
	res, body := chat(t, s.url, userQuestion)
	if res.StatusCode != 200 || !strings.Contains(string(body), `"Fixed."`) {
		t.Errorf("status %d body %s\n%s", res.StatusCode, body, s.stderr.String())
	}
}
