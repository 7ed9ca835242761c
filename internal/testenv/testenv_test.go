package testenv

import (
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
