package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aligngate/aligngate/correct"
	"github.com/aligngate/aligngate/internal/testenv"
)

func TestAnswerShape(t *testing.T) {
	for i, s := range syntheticAnswer {
		if n := len(strings.Fields(s)); n < 12 || n > 15 {
			t.Errorf("sentence %d has %d words, want 12-15", i+1, n)
		}
	}
	ws := words(syntheticAnswer)
	var text strings.Builder
	ends := 0
	for _, w := range ws {
		text.WriteString(w.text)
		if w.endSentence {
			ends++
		}
	}
	if got, want := text.String(), strings.Join(syntheticAnswer, " "); got != want {
		t.Errorf("pieces join to %q, want %q", got, want)
	}
	if ends != len(syntheticAnswer) || !ws[len(ws)-1].endSentence {
		t.Errorf("%d sentence ends, last piece %+v", ends, ws[len(ws)-1])
	}
}

func TestMedian(t *testing.T) {
	tests := []struct {
		in   []time.Duration
		want time.Duration
	}{
		{nil, 0},
		{[]time.Duration{5}, 5},
		{[]time.Duration{9, 1, 5}, 5},
		{[]time.Duration{4, 1, 3, 2}, 2},
		{[]time.Duration{10, 20}, 15},
	}
	for _, tt := range tests {
		if got := median(tt.in); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
	if got := medianInt([]int{7, 3, 5}); got != 5 {
		t.Errorf("medianInt = %d", got)
	}
}

// TestUpstreamStreamsWordsAndMarksSentences reads the mock's stream: one
// word per chunk, the whole syntheticAnswer, and one sentence end per sentence, in
// order, each recorded before the client read that word.
func TestUpstreamStreamsWordsAndMarksSentences(t *testing.T) {
	u := newUpstream(syntheticAnswer[:2], time.Millisecond)
	ts := httptest.NewServer(u)
	defer ts.Close()
	resp, err := http.Post(ts.URL+"/v1/chat/completions", "application/json", strings.NewReader(`{"stream":true}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var text strings.Builder
	var readAt []time.Time // when each sentence's last word was read
	chunks, done := 0, false
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		if data == "[DONE]" {
			done = true
			break
		}
		var c streamChunk
		if err := json.Unmarshal([]byte(data), &c); err != nil {
			t.Fatal(err)
		}
		if c := c.Choices[0].Delta.Content; c != "" {
			chunks++
			text.WriteString(c)
			if strings.HasSuffix(strings.TrimSpace(c), ".") {
				readAt = append(readAt, time.Now())
			}
		}
	}
	want := syntheticAnswer[0] + " " + syntheticAnswer[1]
	if !done || text.String() != want || chunks != len(strings.Fields(want)) {
		t.Fatalf("done %v, %d chunks of %q", done, chunks, text.String())
	}
	ends := u.sentenceEnds()
	if len(ends) != 2 || !ends[0].Before(ends[1]) {
		t.Fatalf("sentence ends %v", ends)
	}
	for i := range ends {
		if ends[i].After(readAt[i]) {
			t.Errorf("sentence %d marked after the client read it", i+1)
		}
	}
}

func TestNewStreamSample(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	s := streamed{Sent: t0, Deltas: []delta{{at(310), "One."}, {at(320), " "}, {at(700), " Two."}}}
	ends := []time.Time{at(300), at(600)}
	calls := []call{
		{Start: at(301), End: at(309), Result: correct.Result{PromptTokens: 50, ReusedTokens: 10, EvaluatedTokens: 40, CompletionTokens: 5}},
		{Start: at(650), End: at(690), Result: correct.Result{PromptTokens: 60, ReusedTokens: 45, EvaluatedTokens: 15, CompletionTokens: 5}},
	}
	got, err := newStreamSample(s, ends, calls)
	if err != nil {
		t.Fatal(err)
	}
	ms := time.Millisecond
	if got.FirstEnd != 300*ms || got.TTFT != 310*ms || len(got.Sentences) != 2 {
		t.Fatalf("sample %+v", got)
	}
	s2 := got.Sentences[1]
	if s2.UpstreamEnd != 600*ms || s2.Emitted != 700*ms || s2.Added != 100*ms || s2.Waited != 50*ms ||
		s2.Cost != 40*ms || s2.Reused != 45 || s2.Evaluated != 15 {
		t.Errorf("sentence 2 %+v", s2)
	}

	if _, err := newStreamSample(s, ends, calls[:1]); !errors.Is(err, ErrShape) {
		t.Errorf("missing generation: err %v, want ErrShape", err)
	}
	s.Deltas = s.Deltas[:1]
	if _, err := newStreamSample(s, ends, calls); !errors.Is(err, ErrShape) {
		t.Errorf("missing sentence: err %v, want ErrShape", err)
	}
}

// TestRunTinyModel runs the whole benchmark once on the tiny model and the
// real engine and checks that the report carries its verdicts.
func TestRunTinyModel(t *testing.T) {
	testenv.LlamaLib(t)
	var out strings.Builder
	if err := run([]string{"-runs", "1", "-threads", "1", "-interval", "2ms", "-max-tokens", "4"}, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"**stream: first corrected token**", "| 6 |", "Stream first token", "Without prefix reuse"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}
