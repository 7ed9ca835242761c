package passthrough

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestRunMeasuresEveryTarget(t *testing.T) {
	mock := httptest.NewServer(NewMock(MockOptions{Chunks: 5}))
	defer mock.Close()
	floor := newFloorServer(t, mock.URL)
	cfg := Config{
		Targets: []Target{
			{Name: "direct", URL: mock.URL + "/v1/chat/completions"},
			{Name: FloorName, URL: floor.URL + "/v1/chat/completions"},
		},
		Requests: 30, Warmup: 5, Concurrency: 4, Duration: 20 * time.Millisecond, Rounds: 2,
	}
	if err := WaitReady(context.Background(), cfg.Targets); err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Modes) != 2 || res.Modes[0].Mode != ModeJSON || res.Modes[1].Mode != ModeStream {
		t.Fatalf("modes = %+v", res.Modes)
	}
	for _, m := range res.Modes {
		if len(m.Targets) != 2 || m.Targets[0].Name != "direct" || m.Targets[1].Name != FloorName {
			t.Fatalf("%s: targets %+v", m.Mode, m.Targets)
		}
		for _, tr := range m.Targets {
			if tr.Errors != 0 || tr.Latency.N != 30 || tr.TTFB.N != 30 {
				t.Errorf("%s %s: errors %d (%s), samples %d/%d", m.Mode, tr.Name, tr.Errors, tr.FirstError, tr.Latency.N, tr.TTFB.N)
			}
			if tr.Throughput <= 0 || tr.Latency.P50 <= 0 || tr.TTFB.P50 > tr.Latency.P50 || tr.Latency.P50 > tr.Latency.P99 {
				t.Errorf("%s %s: implausible %+v", m.Mode, tr.Name, tr)
			}
		}
	}
}

// cutStream answers streamed requests with a stream that lacks [DONE], the
// way a proxy that drops the end of a stream would.
func cutStream(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	if !isStream(b) {
		io.WriteString(w, `{"id":"x"}`)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	io.WriteString(w, "data: {}\n\n")
}

func TestRunRejectsBrokenTargets(t *testing.T) {
	cut := httptest.NewServer(http.HandlerFunc(cutStream))
	defer cut.Close()
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "boom", http.StatusBadGateway)
	}))
	defer failing.Close()
	small := Config{Requests: 2, Warmup: 1, Concurrency: 1, Duration: 5 * time.Millisecond, Rounds: 1}
	for _, tc := range []struct {
		name  string
		cfg   func(Config) Config
		want  error
		inMsg string
	}{
		{"no targets", func(c Config) Config { return c }, ErrNoTargets, ""},
		{"unknown mode", func(c Config) Config {
			c.Targets = []Target{{Name: "cut", URL: cut.URL}}
			c.Modes = []Mode{"grpc"}
			return c
		}, ErrUnknownMode, ""},
		{"stream without done", func(c Config) Config {
			c.Targets = []Target{{Name: "cut", URL: cut.URL}}
			return c
		}, ErrBadResponse, "warm-up cut (stream)"},
		{"status 502", func(c Config) Config {
			c.Targets = []Target{{Name: "failing", URL: failing.URL}}
			return c
		}, ErrBadResponse, "status 502"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Run(context.Background(), tc.cfg(small))
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.inMsg) {
				t.Fatalf("err = %v, want %v containing %q", err, tc.want, tc.inMsg)
			}
		})
	}
}

func TestWaitReadyGivesUp(t *testing.T) {
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "starting", http.StatusServiceUnavailable)
	}))
	defer failing.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err := WaitReady(ctx, []Target{{Name: "slow", URL: failing.URL}})
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrBadResponse) {
		t.Fatalf("err = %v", err)
	}
}

func TestCheckTail(t *testing.T) {
	for _, tc := range []struct {
		tail   string
		stream bool
		ok     bool
	}{
		{"data: [DONE]\n\n", true, true},
		{"}\n\ndata: [DONE]\n\n", true, true},
		{"data: [DONE]\n", true, false},
		{`"stop"}]}` + "\n\n", true, false},
		{`{"a":1}`, false, true},
		{"{\"a\":1}\n", false, true},
		{`{"a":`, false, false},
		{"", false, false},
	} {
		err := checkTail([]byte(tc.tail), tc.stream)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrBadResponse)) {
			t.Errorf("checkTail(%q, %v) = %v, want ok=%v", tc.tail, tc.stream, err, tc.ok)
		}
	}
}

func TestRequestBody(t *testing.T) {
	small := RequestBody(ModeJSON, 0)
	if isStream(small) || !isStream(RequestBody(ModeStream, 0)) {
		t.Fatal("stream flag not set by mode")
	}
	if got := len(RequestBody(ModeJSON, 4096)); got != 4096 {
		t.Fatalf("padded body is %d bytes, want 4096", got)
	}
}

// FuzzKeepTail checks the tail window against the naive answer: the last
// 16 bytes of everything read.
func FuzzKeepTail(f *testing.F) {
	f.Add([]byte("data: [DONE]\n\n"), 3)
	f.Add(bytes.Repeat([]byte("abc"), 20), 7)
	f.Fuzz(func(t *testing.T, data []byte, step int) {
		step = 1 + abs(step)%32
		var tail [16]byte
		n := 0
		for i := 0; i < len(data); i += step {
			n = keepTail(&tail, n, data[i:min(i+step, len(data))])
		}
		want := data[max(0, len(data)-16):]
		if !bytes.Equal(tail[:n], want) {
			t.Fatalf("tail %q, want %q", tail[:n], want)
		}
	})
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
