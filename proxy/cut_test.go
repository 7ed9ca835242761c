package proxy_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aligngate/aligngate/internal/testenv"
	"github.com/aligngate/aligngate/proxy"
)

const cutPrefix = `{"id":"chatcmpl-cut","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"This answer is cut`

// wholeJSON is a complete answer: a client that gets it with a clean end
// of body cannot tell the upstream never finished.
const wholeJSON = `{"id":"chatcmpl-cut","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"looks whole"},"finish_reason":"stop"}]}`

// cuttingUpstream answers 200 with body and closes the connection before
// the body ends. chunked selects an unknown length (the last chunk never
// comes); otherwise a Content-Length larger than what is sent.
func cuttingUpstream(t *testing.T, chunked bool, body string) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		if chunked {
			fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n", len(body), body)
		} else {
			fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body)+100, body)
		}
		_ = buf.Flush()
	}))
	t.Cleanup(ts.Close)
	return ts
}

func plainProxy(t *testing.T, upURL string) *httptest.Server {
	t.Helper()
	cfg := proxy.DefaultConfig()
	cfg.Upstreams = []proxy.Upstream{{Name: "fake", BaseURL: upURL + "/v1"}}
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	srv, err := proxy.New(cfg, proxy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ps := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { _ = srv.Close() })
	t.Cleanup(ps.Close)
	return ps
}

const cutRequest = `{"model":"m","messages":[{"role":"user","content":"hi"}]}`

// TestCutBodyGoClient: a cut upstream body reaches Go's client as a read
// error, never as a clean, truncated 200.
func TestCutBodyGoClient(t *testing.T) {
	for _, chunked := range []bool{true, false} {
		t.Run(fmt.Sprintf("chunked=%v", chunked), func(t *testing.T) {
			ps := plainProxy(t, cuttingUpstream(t, chunked, cutPrefix).URL)
			resp, err := http.Post(ps.URL+"/v1/chat/completions", "application/json", strings.NewReader(cutRequest))
			if err != nil {
				return // an error before the headers is an error too
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err == nil {
				t.Fatalf("clean %d with a truncated body: %s", resp.StatusCode, b)
			}
		})
	}
}

// TestCutBodyCurl: curl exits with an error on a cut body.
func TestCutBodyCurl(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		testenv.Missing(t, "curl not found in PATH: install curl")
	}
	for _, chunked := range []bool{true, false} {
		t.Run(fmt.Sprintf("chunked=%v", chunked), func(t *testing.T) {
			ps := plainProxy(t, cuttingUpstream(t, chunked, cutPrefix).URL)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			out, err := exec.CommandContext(ctx, curl, "-sS", "-o", os.DevNull, "-H", "Content-Type: application/json",
				"-d", cutRequest, ps.URL+"/v1/chat/completions").CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) {
				t.Fatalf("curl succeeded on a cut body (err %v): %s", err, out)
			}
		})
	}
}

// TestCutBodyNodeSDK: the official OpenAI Node SDK rejects a cut body,
// even when what arrived parses as a whole answer.
func TestCutBodyNodeSDK(t *testing.T) {
	node := requireNodeSDK(t)
	ps := plainProxy(t, cuttingUpstream(t, true, wholeJSON).URL)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "cut.test.mjs")
	cmd.Dir = nodeDir
	cmd.Env = append(os.Environ(), "ALIGNGATE_BASE_URL="+ps.URL+"/v1")
	out, err := cmd.CombinedOutput()
	if err != nil || !containsLine(strings.Split(string(out), "\n"), "ok - cut body") {
		t.Fatalf("node cut.test.mjs: %v\n%s", err, out)
	}
}
