package passthrough

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Mode is the kind of request measured.
type Mode string

// The modes Run measures.
const (
	ModeJSON   Mode = "json"   // non-stream chat completion
	ModeStream Mode = "stream" // SSE chat completion
)

// Target is one endpoint under measurement.
type Target struct {
	// Name labels the target's row, e.g. "direct", "floor", "aligngate".
	Name string
	// URL is the full chat completions endpoint,
	// e.g. "http://127.0.0.1:9000/v1/chat/completions".
	URL string
}

// Config drives Run. The first target is the baseline that the others'
// added latency is computed against.
type Config struct {
	// Targets are measured in interleaved order. Required.
	Targets []Target
	// Modes to measure, in order. Default json then stream.
	Modes []Mode
	// Requests is the number of sequential requests per target and mode.
	// Default 2000.
	Requests int
	// Warmup is the number of sequential requests per target and mode sent
	// before measuring, followed by a short saturated burst. Default 200.
	Warmup int
	// Concurrency is the number of connections kept busy when measuring
	// saturated throughput. Default 64.
	Concurrency int
	// Duration is the length of one saturated slice. Default 2s.
	Duration time.Duration
	// Rounds is the number of saturated slices per target and mode; each
	// round visits every target once, starting one further along. Default 3.
	Rounds int
	// BodyBytes pads the request's user message to about this many bytes.
	// Default 0: a short message (about 150 bytes of JSON).
	BodyBytes int
}

func (c *Config) setDefaults() {
	if len(c.Modes) == 0 {
		c.Modes = []Mode{ModeJSON, ModeStream}
	}
	setInt(&c.Requests, 2000)
	setInt(&c.Warmup, 200)
	setInt(&c.Concurrency, 64)
	setInt(&c.Rounds, 3)
	if c.Duration <= 0 {
		c.Duration = 2 * time.Second
	}
}

func setInt(p *int, def int) {
	if *p <= 0 {
		*p = def
	}
}

// ErrNoTargets is returned by Run when Config.Targets is empty.
var ErrNoTargets = errors.New("passthrough: no targets")

// ErrUnknownMode is returned by Run for a mode other than json and stream.
var ErrUnknownMode = errors.New("passthrough: unknown mode")

// ErrBadResponse marks an answer that was not a complete, successful chat
// completion.
var ErrBadResponse = errors.New("bad response")

// Result is everything Run measured.
type Result struct {
	// Config is the configuration used, defaults filled in.
	Config Config
	// Modes holds one entry per measured mode, in Config.Modes order.
	Modes []ModeResult
}

// ModeResult holds one mode's measurements, targets in Config order.
type ModeResult struct {
	Mode    Mode
	Targets []TargetResult
}

// TargetResult is one target's measurements in one mode.
type TargetResult struct {
	Name string
	// Latency runs from sending the request to reading the body's end.
	Latency Percentiles
	// TTFB runs from sending the request to reading the body's first byte.
	TTFB Percentiles
	// Throughput is completed requests per second with Concurrency busy
	// connections, over all rounds.
	Throughput float64
	// Errors counts failed requests in the measured phases.
	Errors int64
	// FirstError describes the first failure, if any.
	FirstError string
}

// Run warms up every target and measures, for each mode, sequential latency
// (requests interleaved across targets one by one) and saturated throughput
// (rounds interleaved across targets). A target that fails during warm-up
// aborts the run; failures while measuring are counted in the result.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	cfg.setDefaults()
	if len(cfg.Targets) == 0 {
		return nil, ErrNoTargets
	}
	for _, m := range cfg.Modes {
		if m != ModeJSON && m != ModeStream {
			return nil, fmt.Errorf("%w %q", ErrUnknownMode, m)
		}
	}
	probers := make([]*prober, len(cfg.Targets))
	for i, t := range cfg.Targets {
		probers[i] = newProber(t, cfg.Concurrency)
		defer probers[i].client.CloseIdleConnections()
	}
	res := &Result{Config: cfg}
	for _, mode := range cfg.Modes {
		body := RequestBody(mode, cfg.BodyBytes)
		for _, p := range probers {
			p.body, p.stream = body, mode == ModeStream
			if err := p.warmup(ctx, cfg); err != nil {
				return nil, fmt.Errorf("warm-up %s (%s): %w", p.name, mode, err)
			}
		}
		res.Modes = append(res.Modes, measureMode(ctx, mode, probers, cfg))
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("measuring %s: %w", mode, err)
		}
	}
	return res, nil
}

func measureMode(ctx context.Context, mode Mode, probers []*prober, cfg Config) ModeResult {
	tally := make([]tally, len(probers))
	lat, ttfb := sequential(ctx, probers, cfg.Requests, tally)
	var completed = make([]int64, len(probers))
	var elapsed = make([]time.Duration, len(probers))
	for r := 0; r < cfg.Rounds; r++ {
		for j := range probers {
			k := (r + j) % len(probers)
			n, d := saturate(ctx, probers[k], cfg.Concurrency, cfg.Duration, &tally[k])
			completed[k] += n
			elapsed[k] += d
		}
	}
	mr := ModeResult{Mode: mode}
	for i, p := range probers {
		tr := TargetResult{
			Name: p.name, Latency: percentiles(lat[i]), TTFB: percentiles(ttfb[i]),
			Errors: tally[i].errors.Load(), FirstError: tally[i].first(),
		}
		if elapsed[i] > 0 {
			tr.Throughput = float64(completed[i]) / elapsed[i].Seconds()
		}
		mr.Targets = append(mr.Targets, tr)
	}
	return mr
}

// sequential sends n requests to each prober, one at a time, visiting the
// probers in turn and starting each turn one further along so that no
// target always follows the same one.
func sequential(ctx context.Context, probers []*prober, n int, t []tally) (lat, ttfb [][]time.Duration) {
	lat = make([][]time.Duration, len(probers))
	ttfb = make([][]time.Duration, len(probers))
	buf := make([]byte, 32<<10)
	for i := 0; i < n && ctx.Err() == nil; i++ {
		for j := range probers {
			k := (i + j) % len(probers)
			s, err := probers[k].do(ctx, buf)
			if err != nil {
				t[k].fail(err)
				continue
			}
			lat[k] = append(lat[k], s.total)
			ttfb[k] = append(ttfb[k], s.ttfb)
		}
	}
	return lat, ttfb
}

// saturate keeps conc requests in flight for about d and returns how many
// completed and how long it took until the last one finished. Requests in
// flight when d ends are allowed to finish so their connections stay
// reusable for the next round.
func saturate(ctx context.Context, p *prober, conc int, d time.Duration, t *tally) (int64, time.Duration) {
	var stop atomic.Bool
	var done atomic.Int64
	timer := time.AfterFunc(d, func() { stop.Store(true) })
	defer timer.Stop()
	start := time.Now()
	var wg sync.WaitGroup
	for range conc {
		wg.Go(func() {
			buf := make([]byte, 32<<10)
			for !stop.Load() && ctx.Err() == nil {
				if _, err := p.do(ctx, buf); err != nil {
					t.fail(err)
					continue
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	return done.Load(), time.Since(start)
}

// tally counts failures; safe for concurrent use.
type tally struct {
	errors   atomic.Int64
	mu       sync.Mutex
	firstErr string
}

func (t *tally) fail(err error) {
	if t.errors.Add(1) == 1 {
		t.mu.Lock()
		t.firstErr = err.Error()
		t.mu.Unlock()
	}
}

func (t *tally) first() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.firstErr
}

// prober sends one kind of request to one target.
type prober struct {
	name   string
	url    string
	client *http.Client
	body   []byte
	stream bool
}

func newProber(t Target, conc int) *prober {
	tr := &http.Transport{
		Proxy:               nil, // loopback benchmark: never consult HTTP_PROXY
		MaxIdleConns:        2 * conc,
		MaxIdleConnsPerHost: 2 * conc,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	return &prober{name: t.Name, url: t.URL, client: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

func (p *prober) warmup(ctx context.Context, cfg Config) error {
	buf := make([]byte, 32<<10)
	for range cfg.Warmup {
		if _, err := p.do(ctx, buf); err != nil {
			return err
		}
	}
	var t tally
	saturate(ctx, p, cfg.Concurrency, max(cfg.Duration/4, 100*time.Millisecond), &t)
	if n := t.errors.Load(); n > 0 {
		return fmt.Errorf("%d failures in saturated warm-up, first: %s", n, t.first())
	}
	return nil
}

// sample is one request's timings.
type sample struct {
	ttfb, total time.Duration
}

// do sends one request and reads the whole answer into buf's space,
// checking that it completed.
func (p *prober) do(ctx context.Context, buf []byte) (sample, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(p.body))
	if err != nil {
		return sample{}, fmt.Errorf("building request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer sk-passthrough-bench")
	start := time.Now()
	resp, err := p.client.Do(req)
	if err != nil {
		return sample{}, fmt.Errorf("post %s: %w", p.url, err)
	}
	defer resp.Body.Close()
	var s sample
	tail, err := readBody(resp.Body, buf, func() { s.ttfb = time.Since(start) })
	s.total = time.Since(start)
	if err != nil {
		return sample{}, fmt.Errorf("reading answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return sample{}, fmt.Errorf("%w: status %d", ErrBadResponse, resp.StatusCode)
	}
	return s, checkTail(tail, p.stream)
}

// readBody reads r to its end through buf, calls first when the first byte
// arrives, and returns the last bytes read.
func readBody(r io.Reader, buf []byte, first func()) ([]byte, error) {
	var tail [16]byte
	nTail := 0
	seen := false
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if !seen {
				seen = true
				first()
			}
			nTail = keepTail(&tail, nTail, buf[:n])
		}
		if err == io.EOF {
			return tail[:nTail], nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// keepTail appends b to the fixed-size tail window, keeping its last bytes.
func keepTail(tail *[16]byte, n int, b []byte) int {
	if len(b) >= len(tail) {
		return copy(tail[:], b[len(b)-len(tail):])
	}
	if over := n + len(b) - len(tail); over > 0 {
		copy(tail[:], tail[over:n])
		n -= over
	}
	return n + copy(tail[n:], b)
}

func checkTail(tail []byte, stream bool) error {
	if stream {
		if !bytes.HasSuffix(tail, []byte("data: [DONE]\n\n")) {
			return fmt.Errorf("%w: stream did not end with [DONE], tail %q", ErrBadResponse, tail)
		}
		return nil
	}
	if !bytes.HasSuffix(bytes.TrimRight(tail, " \r\n"), []byte("}")) {
		return fmt.Errorf("%w: body is not a JSON object, tail %q", ErrBadResponse, tail)
	}
	return nil
}

// RequestBody returns the compact JSON chat completion request the load
// generator sends for mode, its user message padded so that the body is at
// least bodyBytes long.
func RequestBody(mode Mode, bodyBytes int) []byte {
	type msg struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	}
	req := struct {
		Model    string `json:"model"`
		Messages []msg  `json:"messages"`
		Stream   bool   `json:"stream,omitempty"`
	}{
		Model:    MockModel,
		Messages: []msg{{Role: "system", Content: "You are terse."}, {Role: "user", Content: "Say hello to the benchmark."}},
		Stream:   mode == ModeStream,
	}
	b, _ := json.Marshal(req) // fixed types: cannot fail
	if pad := bodyBytes - len(b); pad > 0 {
		req.Messages[1].Content += strings.Repeat("x", pad)
		b, _ = json.Marshal(req)
	}
	return b
}

// WaitReady polls every target with a non-stream request until each answers
// successfully, or ctx ends.
func WaitReady(ctx context.Context, targets []Target) error {
	for _, t := range targets {
		p := newProber(t, 1)
		p.body = RequestBody(ModeJSON, 0)
		buf := make([]byte, 32<<10)
		for {
			_, err := p.do(ctx, buf)
			if err == nil {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("%s not ready: %w (last error: %w)", t.Name, ctx.Err(), err)
			case <-time.After(50 * time.Millisecond):
			}
		}
		p.client.CloseIdleConnections()
	}
	return nil
}
