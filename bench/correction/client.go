package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// delta is one non-empty content delta the client received.
type delta struct {
	At   time.Time
	Text string
}

// streamed is what the client saw of one streamed chat request.
type streamed struct {
	Sent      time.Time
	Deltas    []delta
	Done      time.Time
	Corrected bool
	Fallback  string
}

// ErrStream marks an answer that did not arrive whole and corrected.
var ErrStream = errors.New("bad streamed answer")

// streamChunk is the part of a chat.completion.chunk the client reads.
type streamChunk struct {
	Choices []struct {
		Delta struct {
			Content string `json:"content"`
		} `json:"delta"`
		Aligngate *struct {
			Corrected bool   `json:"corrected"`
			Fallback  string `json:"fallback"`
		} `json:"aligngate"`
	} `json:"choices"`
	Error json.RawMessage `json:"error"`
}

// chatStream sends a streamed chat request for question in mode and times
// every content delta of the answer.
func chatStream(ctx context.Context, client *http.Client, url, mode, question string) (streamed, error) {
	body, _ := json.Marshal(map[string]any{
		"model": "mock", "stream": true,
		"messages": []map[string]string{{"role": "user", "content": question}},
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/v1/chat/completions", strings.NewReader(string(body)))
	if err != nil {
		return streamed{}, fmt.Errorf("request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Aligngate-Mode", mode)
	out := streamed{Sent: time.Now()}
	resp, err := client.Do(req)
	if err != nil {
		return out, fmt.Errorf("%s: %w", mode, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return out, fmt.Errorf("%w: %s: status %d", ErrStream, mode, resp.StatusCode)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		if data == "[DONE]" {
			out.Done = time.Now()
			break
		}
		if err := out.add(data); err != nil {
			return out, fmt.Errorf("%s: %w", mode, err)
		}
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("%s: reading: %w", mode, err)
	}
	// A real model may leave a sentence as it was (fallback "empty": the
	// sentence is kept); any other fallback means the answer was not
	// corrected as measured.
	if out.Done.IsZero() || !out.Corrected || (out.Fallback != "" && out.Fallback != "empty") {
		return out, fmt.Errorf("%w: %s: done %v, corrected %v, fallback %q", ErrStream, mode, !out.Done.IsZero(), out.Corrected, out.Fallback)
	}
	return out, nil
}

// add records one chunk.
func (s *streamed) add(data string) error {
	now := time.Now()
	var c streamChunk
	if err := json.Unmarshal([]byte(data), &c); err != nil {
		return fmt.Errorf("%w: chunk %q: %w", ErrStream, data, err)
	}
	if c.Error != nil {
		return fmt.Errorf("%w: error chunk %s", ErrStream, c.Error)
	}
	for _, ch := range c.Choices {
		if ch.Delta.Content != "" {
			s.Deltas = append(s.Deltas, delta{At: now, Text: ch.Delta.Content})
		}
		if ch.Aligngate != nil {
			s.Corrected, s.Fallback = ch.Aligngate.Corrected, ch.Aligngate.Fallback
		}
	}
	return nil
}

// sentenceDeltas returns the deltas that carry text, which in stream mode
// are the corrected sentences in order.
func (s streamed) sentenceDeltas() []delta {
	var out []delta
	for _, d := range s.Deltas {
		if strings.TrimSpace(d.Text) != "" {
			out = append(out, d)
		}
	}
	return out
}
