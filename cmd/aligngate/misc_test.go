package main

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aligngate/aligngate/internal/testenv"
)

// waitLog waits until the serve log holds want; it gives up after a minute.
func waitLog(t *testing.T, s *served, want string) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !strings.Contains(s.stderr.String(), want); {
		if time.Now().After(deadline) {
			t.Fatalf("log never said %q:\n%s", want, s.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestServeNoSpuriousReload: the policy watcher's start-up check of an
// unchanged file does not log "policy reloaded".
func TestServeNoSpuriousReload(t *testing.T) {
	up := chatUpstream(t, "Hi.")
	cfg := writeConfig(t, "upstreams: [{name: u, base_url: \""+up.URL+"/v1\"}]\npolicies: {records: {sink: \"off\"}, default: {mode: \"off\"}}\n")
	s := startServe(t, nil, "--config", cfg, "--log-level", "debug")
	waitLog(t, s, "policies unchanged")
	if strings.Contains(s.stderr.String(), "policy reloaded") {
		t.Errorf("spurious reload logged:\n%s", s.stderr.String())
	}
}

// TestVersionFromBuildInfo: `aligngate version` prints the module version
// and the VCS revision the binary was built from.
func TestVersionFromBuildInfo(t *testing.T) {
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		testenv.Missing(t, "not a git checkout or no git: %v", err)
	}
	// The go command stamps VCS information only where .git is a folder:
	// not in a `git worktree`, whose .git is a file. That is a limit of the
	// go command, not something missing, so it skips even under CI (which
	// runs in a clone).
	if st, err := os.Stat("../../.git"); err != nil || !st.IsDir() {
		t.Skip("../../.git is not a folder (a git worktree): the go command cannot stamp the revision here")
	}
	r := runCLI(t, "", nil, "version")
	m := regexp.MustCompile(`^aligngate (\S+) \(revision ([0-9a-f]{12})(\+dirty)?, [0-9TZ:-]+, go[0-9.]+\S*\)\n$`).FindStringSubmatch(r.stdout)
	if r.code != 0 || m == nil {
		t.Fatalf("version output %q", r.stdout)
	}
	if m[2] != string(head[:12]) {
		t.Errorf("revision %s, HEAD is %s", m[2], head[:12])
	}
	if m[1] == "dev" || m[1] == "(devel)" {
		t.Errorf("version %q: want the module version from build info", m[1])
	}
}
