package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

// recorder is a testing.TB that records how it was ended.
type recorder struct {
	testing.TB
	fatal, skip bool
}

func (r *recorder) Helper()               {}
func (r *recorder) Fatalf(string, ...any) { r.fatal = true }
func (r *recorder) Skipf(string, ...any)  { r.skip = true }

func TestMissingFailsUnderCI(t *testing.T) {
	t.Setenv("CI", "true")
	r := &recorder{TB: t}
	Missing(r, "x")
	if !r.fatal || r.skip {
		t.Errorf("under CI: fatal %v skip %v", r.fatal, r.skip)
	}
}

func TestMissingSkipsElsewhere(t *testing.T) {
	t.Setenv("CI", "")
	r := &recorder{TB: t}
	Missing(r, "x")
	if r.fatal || !r.skip {
		t.Errorf("outside CI: fatal %v skip %v", r.fatal, r.skip)
	}
}

func TestRealModelFromEnvironment(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.gguf")
	if err := os.WriteFile(path, []byte("GGUF"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("ALIGNGATE_MODEL", path)
	if got := RealModel(t); got != path {
		t.Errorf("RealModel = %q, want %q", got, path)
	}
}

func TestModuleRootHoldsGoMod(t *testing.T) {
	if _, err := os.Stat(filepath.Join(moduleRoot(), "go.mod")); err != nil {
		t.Errorf("module root %q: %v", moduleRoot(), err)
	}
}
