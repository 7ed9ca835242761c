package dataset

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// HHRLHF reads Anthropic's HH-RLHF (a .jsonl.gz or .jsonl file of
// {"chosen","rejected"} transcripts). Each dialogue gives one pair: the last
// Human turn as Question, the rejected transcript's last Assistant turn as
// Answer (the one to correct), the chosen one's as Reference, the turns
// before as Context. IDs are 1-based line numbers.
func HHRLHF(path string) ([]Pair, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("dataset: %s: %w", path, err)
		}
		defer gz.Close()
		r = gz
	}
	var pairs []Pair
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<24)
	for line := 1; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		p, err := hhPair(sc.Bytes())
		if err != nil {
			return nil, fmt.Errorf("dataset: %s:%d: %w", path, line, err)
		}
		p.ID = strconv.Itoa(line)
		pairs = append(pairs, p)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("dataset: %s: %w", path, err)
	}
	return pairs, nil
}

const (
	humanTag     = "\n\nHuman: "
	assistantTag = "\n\nAssistant: "
)

func hhPair(line []byte) (Pair, error) {
	var row struct{ Chosen, Rejected string }
	if err := json.Unmarshal(line, &row); err != nil {
		return Pair{}, err
	}
	ctx, q, rejected, ok := lastExchange(row.Rejected)
	if !ok {
		return Pair{}, fmt.Errorf("rejected transcript has no final Human/Assistant exchange")
	}
	_, _, chosen, ok := lastExchange(row.Chosen)
	if !ok {
		return Pair{}, fmt.Errorf("chosen transcript has no final Human/Assistant exchange")
	}
	return Pair{
		Question: q, Answer: rejected, Reference: chosen, Context: ctx,
		Turns: strings.Count(row.Rejected, humanTag),
	}, nil
}

// lastExchange splits a transcript into what precedes its last Human turn,
// that turn's text and the Assistant's reply to it.
func lastExchange(t string) (context, question, answer string, ok bool) {
	h := strings.LastIndex(t, humanTag)
	if h < 0 {
		return "", "", "", false
	}
	rest := t[h+len(humanTag):]
	a := strings.Index(rest, assistantTag)
	if a < 0 {
		return "", "", "", false
	}
	return strings.TrimSpace(t[:h]), strings.TrimSpace(rest[:a]), strings.TrimSpace(rest[a+len(assistantTag):]), true
}
