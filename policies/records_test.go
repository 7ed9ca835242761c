package policies

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/aligngate/aligngate/internal/testenv"
)

func readRecords(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("bad line %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

func sampleRecord(capture bool) Record {
	d := Decision{Mode: ModeAligner, Experiment: "ab", Arm: "treatment", UnitHash: HashKey("ab\x00u"), CaptureContent: capture}
	r := d.NewRecord("gpt-4o", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	r.Question, r.OriginalAnswer, r.CorrectedAnswer = "q?", "orig", "fixed"
	r.UpstreamMS, r.CorrectionMS, r.Cache, r.Corrected = 120, 30, "miss", true
	return r
}

func TestFileRecorderWritesAndRedacts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rec.jsonl")
	r, err := NewRecorder(RecordsConfig{Path: path}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Record(sampleRecord(true))
	r.Record(sampleRecord(false))
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	recs := readRecords(t, path)
	if len(recs) != 2 {
		t.Fatalf("got %d records", len(recs))
	}
	want := map[string]any{
		"time": "2026-01-02T03:04:05Z", "experiment": "ab", "arm": "treatment", "unit_hash": HashKey("ab\x00u"),
		"model": "gpt-4o", "mode": "aligner", "question": "q?", "original_answer": "orig", "corrected_answer": "fixed",
		"upstream_ms": 120.0, "correction_ms": 30.0, "cache": "miss", "corrected": true, "fallback": false,
	}
	for k, v := range want {
		if recs[0][k] != v {
			t.Errorf("record[%q] = %v, want %v", k, recs[0][k], v)
		}
	}
	for _, k := range []string{"question", "original_answer", "corrected_answer"} {
		if _, ok := recs[1][k]; ok {
			t.Errorf("content %q written without capture_content", k)
		}
	}
	r.Record(sampleRecord(true)) // after Close: dropped, no panic
	if r.Dropped() != 1 {
		t.Errorf("Dropped() = %d after a record past Close", r.Dropped())
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestFileRecorderRotates(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rec.jsonl")
	line, _ := json.Marshal(sampleRecord(true).redact())
	size := int64(len(line) + 1)
	r, err := NewRecorder(RecordsConfig{Path: path, MaxBytes: 2 * size, MaxBackups: 2, Buffer: 100}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 7 { // 2 per file: current holds 1, .1 and .2 hold 2 each, 2 fell off
		r.Record(sampleRecord(true))
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]int{"rec.jsonl": 1, "rec.jsonl.1": 2, "rec.jsonl.2": 2} {
		if got := len(readRecords(t, filepath.Join(dir, name))); got != want {
			t.Errorf("%s holds %d records, want %d", name, got, want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "rec.jsonl.3")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("backup beyond max_backups exists: %v", err)
	}
}

func TestFileRecorderLazyOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rec.jsonl")
	r, err := NewRecorder(RecordsConfig{Path: path}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("file created without records: %v", err)
	}
}

// blockingSink stands in for a stalled disk or network: it holds the
// writer until released.
type blockingSink struct {
	entered chan struct{}
	release chan struct{}
	n       int
}

func (b *blockingSink) write(Record, []byte) error {
	if b.n == 0 {
		close(b.entered)
	}
	b.n++
	<-b.release
	return nil
}
func (b *blockingSink) flush() error { return nil }
func (b *blockingSink) close() error { return nil }

func TestRecorderDropsWhenFull(t *testing.T) {
	s := &blockingSink{entered: make(chan struct{}), release: make(chan struct{})}
	r := &AsyncRecorder{ch: make(chan Record, 2), done: make(chan struct{}), logger: discardLogger(), sink: s}
	go r.run()
	r.Record(sampleRecord(false)) // taken by the writer, which then blocks
	<-s.entered
	for range 5 { // 2 fit in the queue, 3 are dropped, none block
		r.Record(sampleRecord(false))
	}
	if got := r.Dropped(); got != 3 {
		t.Errorf("Dropped() = %d, want 3", got)
	}
	close(s.release)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if s.n != 3 || r.Written() != 3 {
		t.Errorf("sink got %d, Written() = %d, want 3 (Close must drain the queue)", s.n, r.Written())
	}
}

func TestNewRecorderErrors(t *testing.T) {
	if _, err := NewRecorder(RecordsConfig{Sink: "kafka"}, nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown sink: %v", err)
	}
	if _, err := NewRecorder(RecordsConfig{Sink: SinkRedis, RedisURL: "http://x"}, nil); err == nil ||
		!strings.Contains(err.Error(), "policies.records.redis_url") {
		t.Errorf("bad redis url: %v", err)
	}
	r, err := NewRecorder(RecordsConfig{Sink: SinkOff}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Record(sampleRecord(true))
	if err := r.Close(); err != nil || r.Written() != 1 {
		t.Errorf("off sink: %v, written %d", err, r.Written())
	}
}

// startRedis runs a real redis-server on a unix socket. Under CI a missing
// redis-server fails the test; elsewhere it skips.
func startRedis(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		testenv.Missing(t, "redis-server not found; install it to run this test")
	}
	dir := t.TempDir()
	sock := filepath.Join(dir, "redis.sock")
	cmd := exec.Command(bin, "--port", "0", "--unixsocket", sock, "--save", "", "--appendonly", "no", "--dir", dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	url := "unix://" + sock
	opts, _ := redis.ParseURL(url)
	c := redis.NewClient(opts)
	defer c.Close()
	waitFor(t, "redis-server", func() bool { return c.Ping(context.Background()).Err() == nil })
	return url
}

func TestRedisRecorder(t *testing.T) {
	url := startRedis(t)
	r, err := NewRecorder(RecordsConfig{Sink: SinkRedis, RedisURL: url, Stream: "test:records", MaxLen: 1000}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		r.Record(sampleRecord(false))
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	opts, _ := redis.ParseURL(url)
	c := redis.NewClient(opts)
	defer c.Close()
	msgs, err := c.XRange(context.Background(), "test:records", "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 3 {
		t.Fatalf("stream holds %d entries, want 3", len(msgs))
	}
	v := msgs[0].Values
	if v["experiment"] != "ab" || v["arm"] != "treatment" {
		t.Errorf("fields: %v", v)
	}
	var rec Record
	if err := json.Unmarshal([]byte(v["record"].(string)), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Model != "gpt-4o" || rec.Question != "" || rec.UpstreamMS != 120 {
		t.Errorf("record: %+v", rec)
	}
}
