package archtest

import (
	"bufio"
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

const mod = "github.com/aligngate/aligngate"

// pkg is one package of the module as go list describes it.
type pkg struct {
	path    string
	imports []string // direct, test files included
	deps    []string // transitive, of the non-test build
}

// listPackages runs go list over the module.
func listPackages(t *testing.T) map[string]pkg {
	t.Helper()
	format := `{{.ImportPath}}|{{join .Imports ","}},{{join .TestImports ","}},{{join .XTestImports ","}}|{{join .Deps ","}}`
	cmd := exec.Command("go", "list", "-f", format, mod+"/...")
	cmd.Dir = "../.."
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	pkgs := map[string]pkg{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		f := strings.Split(sc.Text(), "|")
		if len(f) != 3 {
			t.Fatalf("go list line %q", sc.Text())
		}
		pkgs[f[0]] = pkg{path: f[0], imports: split(f[1]), deps: split(f[2])}
	}
	if len(pkgs) < 10 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	return pkgs
}

func split(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x != "" {
			out = append(out, x)
		}
	}
	return out
}

// under reports whether p is root or a package below it.
func under(p, root string) bool { return p == root || strings.HasPrefix(p, root+"/") }

// rule forbids packages under from (a module-relative root, or "" for
// every package) to depend on anything under one of the roots in deny.
type rule struct {
	from   string
	deny   []string
	direct bool // check direct imports (tests included) instead of transitive deps
	why    string
}

var rules = []rule{
	{from: "proxy", deny: []string{mod + "/config", mod + "/llamacpp", mod + "/llamacorrect", mod + "/cache",
		"github.com/hybridgroup/yzma", "github.com/ebitengine/purego"},
		why: "the proxy owns its config and links no engine and no cache: the command wires them in"},
	{from: "proxy", deny: []string{"github.com/redis/go-redis"}, direct: true,
		why: "the proxy talks to no Redis itself"},
	{from: "correct", deny: []string{mod + "/llamacpp", mod + "/proxy", mod + "/config",
		"github.com/gin-gonic/gin", "github.com/hybridgroup/yzma"},
		why: "correct owns its model vocabulary; the llamacorrect adapter translates"},
	{from: "correct", deny: []string{mod + "/llamacpp"}, direct: true,
		why: "correct's tests use fakes in correct's own types"},
	{from: "llamacpp", deny: []string{mod + "/proxy", mod + "/correct", mod + "/config", "github.com/gin-gonic/gin", "net/http"},
		why: "the engine knows nothing of HTTP or of its consumers"},
	{from: "cache", deny: []string{mod + "/proxy", mod + "/correct", mod + "/config", "github.com/gin-gonic/gin", "net/http"},
		why: "the cache knows nothing of HTTP or of its consumers"},
	{from: "policies", deny: []string{mod + "/proxy", mod + "/correct", mod + "/config", "github.com/gin-gonic/gin", "net/http"},
		why: "policies decide on facts, not on HTTP requests"},
	{from: "llamacorrect", deny: []string{mod + "/proxy", mod + "/config", "github.com/gin-gonic/gin"},
		why: "the adapter translates types and errors, nothing else"},
	{from: "llamacorrect", deny: []string{"net/http"}, direct: true,
		why: "the adapter translates types and errors, nothing else (correct's remote backend brings net/http)"},
	{from: "wire", deny: []string{mod + "/"}, why: "the wire format is a leaf"},
	{from: "glob", deny: []string{mod + "/"}, why: "the glob dialect is a leaf"},
	{from: "internal/testenv", deny: []string{mod + "/"}, why: "the test helper is a leaf"},
}

func TestImportRules(t *testing.T) {
	pkgs := listPackages(t)
	for _, r := range rules {
		for _, p := range pkgs {
			if !under(p.path, mod+"/"+r.from) {
				continue
			}
			list := p.deps
			if r.direct {
				list = p.imports
			}
			for _, d := range list {
				for _, bad := range r.deny {
					if strings.HasSuffix(bad, "/") && strings.HasPrefix(d, bad) || under(d, bad) {
						t.Errorf("%s depends on %s: %s", p.path, d, r.why)
					}
				}
			}
		}
	}
}

// Only the command and the tools under bench/ assemble the composite
// configuration file.
func TestOnlyCommandsImportConfig(t *testing.T) {
	for _, p := range listPackages(t) {
		if under(p.path, mod+"/cmd") || under(p.path, mod+"/bench") || under(p.path, mod+"/config") {
			continue
		}
		for _, d := range p.imports {
			if under(d, mod+"/config") {
				t.Errorf("%s imports %s: only cmd/ and bench/ may", p.path, d)
			}
		}
	}
}
