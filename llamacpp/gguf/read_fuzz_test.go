package gguf

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzInspect feeds corrupt headers to Inspect: it must return an error or
// a summary, never panic or allocate without bound.
func FuzzInspect(f *testing.F) {
	var buf bytes.Buffer
	if err := minimal().Write(&buf); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte("GGUF\x03\x00\x00\x00"))
	f.Add([]byte("nope"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "f.gguf")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		info, err := Inspect(p)
		if err == nil && info.ID == "" {
			t.Fatal("no id for an accepted file")
		}
	})
}
