package main

import (
	"runtime/debug"
	"strings"
)

// versionString describes the binary: the module version (or the one set
// with -ldflags "-X main.version=..."), the VCS revision and time it was
// built from, and the Go release, e.g.
// "aligngate v0.0.0-20261202-abc (revision 0123456789ab+dirty, 2026-12-02T10:00:00Z, go1.26.8)".
func versionString() string {
	v := version
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "aligngate " + v
	}
	if v == "dev" && bi.Main.Version != "" {
		v = bi.Main.Version // "(devel)" for a plain go build
	}
	var rev, at, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	parts := []string{}
	if rev != "" {
		parts = append(parts, "revision "+rev[:min(12, len(rev))]+dirty)
	}
	if at != "" {
		parts = append(parts, at)
	}
	parts = append(parts, bi.GoVersion)
	return "aligngate " + v + " (" + strings.Join(parts, ", ") + ")"
}
