package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The CLI tests run the aligngate binary as a user would; it is built once
// per test process, on first use.
var built struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		_ = os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// binary returns the path of a freshly built aligngate binary.
func binary(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		if built.dir, built.err = os.MkdirTemp("", "aligngate-cli-"); built.err != nil {
			return
		}
		built.path = filepath.Join(built.dir, "aligngate")
		out, err := exec.Command("go", "build", "-buildvcs=auto", "-o", built.path, ".").CombinedOutput()
		if err != nil {
			built.err = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.path
}

// cliResult is what one finished command printed.
type cliResult struct {
	stdout, stderr string
	code           int
}

// runCLI runs the binary to completion in dir (a fresh temporary folder when
// empty) with env added to a minimal environment.
func runCLI(t *testing.T, dir string, env []string, args ...string) cliResult {
	t.Helper()
	return runProgram(t, dir, env, binary(t), args...)
}

// runCLIProgram runs another program (node, ...) the same way.
func runCLIProgram(t *testing.T, dir string, prog string, args ...string) cliResult {
	t.Helper()
	return runProgram(t, dir, nil, prog, args...)
}

func runProgram(t *testing.T, dir string, env []string, prog string, args ...string) cliResult {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Dir = dir
	cmd.Env = append(baseEnv(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return cliResult{stdout.String(), stderr.String(), code}
}

// baseEnv is the environment the binary runs with: PATH and HOME only, so
// the developer's variables do not leak into what is tested.
func baseEnv() []string {
	return []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
}

// served is a running `aligngate serve`.
type served struct {
	url    string
	stderr *lockedBuffer
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var listenRE = regexp.MustCompile(`"msg":"aligngate listening".*?"addr":"([^"]+)"`)

// startServe runs `aligngate serve --listen 127.0.0.1:0 args...` and waits
// for its listening log line; the process is stopped at cleanup.
func startServe(t *testing.T, env []string, args ...string) *served {
	t.Helper()
	cmd := exec.Command(binary(t), append([]string{"serve", "--listen", "127.0.0.1:0"}, args...)...)
	cmd.Dir = t.TempDir()
	cmd.Env = append(baseEnv(), env...)
	pr, pw := io.Pipe()
	s := &served{stderr: &lockedBuffer{}}
	cmd.Stderr = io.MultiWriter(s.stderr, pw)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); pw.Close() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		if m := listenRE.FindStringSubmatch(sc.Text()); m != nil {
			s.url = "http://" + m[1]
			go func() { _, _ = io.Copy(io.Discard, pr) }()
			return s
		}
	}
	t.Fatalf("serve exited before listening:\n%s", s.stderr.String())
	return nil
}

// backend is a test double of an OpenAI-compatible completions server
// serving an Aligner: it lists models and streams a fixed correction.
func backend(t *testing.T, models []string, correction string) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/models":
			var data []map[string]string
			for _, m := range models {
				data = append(data, map[string]string{"id": m, "object": "model"})
			}
			_ = json.NewEncoder(w).Encode(map[string]any{"object": "list", "data": data})
		case "/v1/completions":
			var req struct {
				Model     string
				MaxTokens int `json:"max_tokens"`
			}
			_ = json.NewDecoder(r.Body).Decode(&req)
			if len(models) > 0 && req.Model != models[0] {
				http.Error(w, "unknown model "+req.Model, http.StatusNotFound)
				return
			}
			w.Header().Set("Content-Type", "text/event-stream")
			words, finish := capWords(correction, req.MaxTokens)
			for _, word := range words {
				b, _ := json.Marshal(map[string]any{"choices": []map[string]any{{"text": word, "finish_reason": nil}}})
				fmt.Fprintf(w, "data: %s\n\n", b)
			}
			fmt.Fprintf(w, "data: {\"choices\":[{\"text\":\"\",\"finish_reason\":%q}]}\n\ndata: [DONE]\n\n", finish)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(ts.Close)
	return ts
}

// chatUpstream is a test double of the upstream LLM: it answers every chat
// completion with answer, whole or streamed.
func chatUpstream(t *testing.T, answer string) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/chat/completions" {
			http.NotFound(w, r)
			return
		}
		var req struct {
			Stream              bool
			MaxTokens           int `json:"max_tokens"`
			MaxCompletionTokens int `json:"max_completion_tokens"`
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		words, finish := capWords(answer, max(req.MaxTokens, req.MaxCompletionTokens))
		if !req.Stream {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"id":"c1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":%q},"finish_reason":%q}],"usage":{"prompt_tokens":3,"completion_tokens":%d,"total_tokens":%d}}`,
				strings.Join(words, ""), finish, len(words), 3+len(words))
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		for _, word := range words {
			fmt.Fprintf(w, "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":%q},\"finish_reason\":null}]}\n\n", word)
		}
		fmt.Fprintf(w, "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":%q}]}\n\n", finish)
		fmt.Fprintf(w, "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":%d,\"total_tokens\":%d}}\n\ndata: [DONE]\n\n", len(words), 3+len(words))
	}))
	t.Cleanup(ts.Close)
	return ts
}

// chat posts a non-stream chat completion to the proxy.
func chat(t *testing.T, base, body string) (*http.Response, []byte) {
	t.Helper()
	res, err := http.Post(base+"/v1/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, b
}

// capWords splits text into words (each with its trailing space), one
// token each, keeping at most maxTokens (all when 0), and the finish
// reason: "length" when words were dropped.
func capWords(text string, maxTokens int) ([]string, string) {
	words := strings.SplitAfter(text, " ")
	if maxTokens > 0 && len(words) > maxTokens {
		return words[:maxTokens], "length"
	}
	return words, "stop"
}
