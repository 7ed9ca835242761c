package main

import (
	"testing"

	"github.com/aligngate/aligngate/bench/passthrough"
)

func TestTargetsFlag(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    passthrough.Target
		wantErr bool
	}{
		{"direct=http://127.0.0.1:9001/v1", passthrough.Target{Name: "direct", URL: "http://127.0.0.1:9001/v1/chat/completions"}, false},
		{"ag=http://127.0.0.1:9003/v1/", passthrough.Target{Name: "ag", URL: "http://127.0.0.1:9003/v1/chat/completions"}, false},
		{"http://127.0.0.1:9001/v1", passthrough.Target{}, true},
		{"=http://x/v1", passthrough.Target{}, true},
		{"name=", passthrough.Target{}, true},
	} {
		var f targetsFlag
		err := f.Set(tc.in)
		if (err != nil) != tc.wantErr {
			t.Fatalf("Set(%q) error = %v, want error %v", tc.in, err, tc.wantErr)
		}
		if err == nil && (len(f) != 1 || f[0] != tc.want) {
			t.Fatalf("Set(%q) = %+v, want %+v", tc.in, f, tc.want)
		}
	}
}
