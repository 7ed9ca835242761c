package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// syntheticAnswer is the mock upstream's default answer: six sentences of
// 14 or 15 words.
var syntheticAnswer = []string{
	"The Eiffel Tower was finished in 1889 as the entrance arch for the World's Fair.",
	"Its designer Gustave Eiffel led the company that built the wrought iron lattice structure.",
	"Many artists of the time called the tower ugly and signed a letter against it.",
	"The tower was meant to stand for only twenty years before being taken down.",
	"It survived because the army used it for radio experiments and long distance messages.",
	"Today it welcomes about six million visitors every year from all over the world.",
}

// word is one streamed piece of the answer.
type word struct {
	text        string // the word and the space after it (none after the last)
	endSentence bool   // the word ends a sentence
}

// words splits sentences into the pieces the upstream streams, one word per
// chunk.
func words(sentences []string) []word {
	var out []word
	for si, s := range sentences {
		f := strings.Fields(s)
		for wi, w := range f {
			last := wi == len(f)-1
			if !(last && si == len(sentences)-1) {
				w += " "
			}
			out = append(out, word{text: w, endSentence: last})
		}
	}
	return out
}

// upstream is a mock chat completions server that streams the answer one
// word per interval (50 tokens/s at 20 ms) and records when the last word
// of each sentence was sent. It serves one request at a time.
type upstream struct {
	interval time.Duration
	words    []word

	mu   sync.Mutex
	ends []time.Time // when each sentence's last word was sent, last request
}

// newUpstream returns a mock streaming sentences at one word per interval.
func newUpstream(sentences []string, interval time.Duration) *upstream {
	return &upstream{interval: interval, words: words(sentences)}
}

// sentenceEnds returns when each sentence of the last request was sent.
func (u *upstream) sentenceEnds() []time.Time {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]time.Time(nil), u.ends...)
}

// ServeHTTP answers POST …/chat/completions, streamed or whole. A whole
// answer is sent after the time its stream would have taken.
func (u *upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Stream bool `json:"stream"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	u.mu.Lock()
	u.ends = u.ends[:0]
	u.mu.Unlock()
	if !req.Stream {
		u.whole(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	fl := w.(http.Flusher)
	writeChunk(w, `{"role":"assistant","content":""}`, "null")
	fl.Flush()
	start := time.Now()
	for i, wd := range u.words {
		if !sleepUntil(r, start.Add(time.Duration(i+1)*u.interval)) {
			return
		}
		if wd.endSentence { // the sentence is complete as this chunk goes out
			u.mark(time.Now())
		}
		content, _ := json.Marshal(wd.text)
		writeChunk(w, `{"content":`+string(content)+`}`, "null")
		fl.Flush()
	}
	writeChunk(w, `{}`, `"stop"`)
	fmt.Fprint(w, "data: [DONE]\n\n")
	fl.Flush()
}

// whole serves a non-stream request after the stream's duration.
func (u *upstream) whole(w http.ResponseWriter, r *http.Request) {
	var text strings.Builder
	start := time.Now()
	for i, wd := range u.words {
		text.WriteString(wd.text)
		if wd.endSentence {
			at := start.Add(time.Duration(i+1) * u.interval)
			if !sleepUntil(r, at) {
				return
			}
			u.mark(at)
		}
	}
	content, _ := json.Marshal(text.String())
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"id":"chatcmpl-bench","object":"chat.completion","created":1,"model":"mock",`+
		`"choices":[{"index":0,"message":{"role":"assistant","content":%s},"finish_reason":"stop"}]}`, content)
}

// mark records a sentence end.
func (u *upstream) mark(t time.Time) {
	u.mu.Lock()
	u.ends = append(u.ends, t)
	u.mu.Unlock()
}

// writeChunk writes one chat.completion.chunk event.
func writeChunk(w http.ResponseWriter, delta, finish string) {
	fmt.Fprintf(w, `data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1,"model":"mock",`+
		`"choices":[{"index":0,"delta":%s,"finish_reason":%s}]}`+"\n\n", delta, finish)
}

// sleepUntil waits until t; false when the request was cancelled first.
func sleepUntil(r *http.Request, t time.Time) bool {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-r.Context().Done():
		return false
	}
}
