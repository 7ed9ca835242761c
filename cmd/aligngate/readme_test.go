package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aligngate/aligngate/internal/testenv"
)

// readme returns the project README.
func readme(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestReadmeDocumentsEnvironment checks that the README names the
// environment variables the commands read.
func TestReadmeDocumentsEnvironment(t *testing.T) {
	text := readme(t)
	for _, v := range []string{"JUDGE_API_KEY", "YZMA_LIB", "ALIGNGATE_LOG_LEVEL"} {
		if !strings.Contains(text, v) {
			t.Errorf("README does not mention %s", v)
		}
	}
}

// snippet returns the body of the first README code block fenced as lang
// whose text starts with prefix.
func snippet(t *testing.T, lang, prefix string) string {
	t.Helper()
	rest := readme(t)
	for {
		var ok bool
		if _, rest, ok = strings.Cut(rest, "\n```"+lang+"\n"); !ok {
			t.Fatalf("README has no ```%s block starting %q", lang, prefix)
		}
		body, after, ok := strings.Cut(rest, "\n```\n")
		if !ok {
			t.Fatalf("README's ```%s block does not end", lang)
		}
		if strings.HasPrefix(body, prefix) {
			return body + "\n"
		}
		rest = after
	}
}

// readmeProxy serves a passthrough aligngate in front of an upstream double
// and returns the README snippet for lang pointed at it.
func readmeProxy(t *testing.T, lang, prefix, answer string) string {
	t.Helper()
	up := chatUpstream(t, answer)
	s := startServe(t, nil, "--upstream", up.URL+"/v1")
	code := snippet(t, lang, prefix)
	if !strings.Contains(code, "http://localhost:8080/v1") {
		t.Fatalf("the %s snippet does not use http://localhost:8080/v1", lang)
	}
	return strings.ReplaceAll(code, "http://localhost:8080", s.url)
}

// TestReadmeJSSnippet runs the README's JavaScript snippet as written (but
// for the port) with the official Node SDK and no OPENAI_API_KEY.
func TestReadmeJSSnippet(t *testing.T) {
	node, err := exec.LookPath("node")
	sdk, _ := filepath.Abs("../../test/node/node_modules")
	if _, serr := os.Stat(filepath.Join(sdk, "openai", "package.json")); err != nil || serr != nil {
		testenv.Missing(t, "node or the OpenAI Node SDK missing: install Node.js and run npm ci --prefix test/node")
	}
	code := readmeProxy(t, "js", "", "Paris is the capital of France.")
	dir := t.TempDir()
	if err := os.Symlink(sdk, filepath.Join(dir, "node_modules")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "paris.mjs"), []byte(code), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runCLIProgram(t, dir, node, "paris.mjs")
	if r.code != 0 || r.stdout != "Paris is the capital of France." {
		t.Errorf("node paris.mjs: %+v", r)
	}
}

// TestReadmeGoSnippet builds and runs the README's Go program as written
// (but for the port) with go-openai from the module cache.
func TestReadmeGoSnippet(t *testing.T) {
	code := readmeProxy(t, "go", "", "Paris is the capital of France.")
	dir := t.TempDir()
	gosum, err := os.ReadFile("../../go.sum")
	if err != nil {
		t.Fatal(err)
	}
	gomod := "module readme\n\ngo 1.24\n\nrequire github.com/sashabaranov/go-openai " + goOpenAIVersion(t) + "\n"
	for name, text := range map[string]string{"main.go": code, "go.mod": gomod, "go.sum": string(gosum)} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("go", "run", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "OPENAI_API_KEY=")
	out, err := cmd.CombinedOutput()
	if err != nil || string(out) != "Paris is the capital of France.\n" {
		t.Errorf("go run: %v\n%s", err, out)
	}
}

// goOpenAIVersion is the go-openai version go.mod requires.
func goOpenAIVersion(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "github.com/sashabaranov/go-openai" {
			return f[1]
		}
	}
	t.Fatal("go.mod does not require go-openai")
	return ""
}

// TestReadmeCurlSnippet runs the README's curl example as written (but for
// the port) against a passthrough aligngate.
func TestReadmeCurlSnippet(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		testenv.Missing(t, "curl not found in PATH")
	}
	code := readmeProxy(t, "sh", "curl ", "Call a locksmith.")
	r := runCLIProgram(t, "", "bash", "-c", code)
	if r.code != 0 || !strings.Contains(r.stdout, "200 OK") || !strings.Contains(r.stdout, "X-Aligngate-Mode: off") ||
		!strings.Contains(r.stdout, "Call a locksmith.") {
		t.Errorf("curl snippet: %+v", r)
	}
}
