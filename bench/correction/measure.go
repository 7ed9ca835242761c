package main

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// sentenceSample is one stream-mode sentence of one run.
type sentenceSample struct {
	UpstreamEnd time.Duration // the upstream sent the sentence's last word (since send)
	Emitted     time.Duration // the client received its correction (since send)
	Added       time.Duration // Emitted - UpstreamEnd
	Waited      time.Duration // from UpstreamEnd until its generation started
	Cost        time.Duration // its generation
	Prompt      int           // prompt tokens
	Reused      int           // prompt tokens served from the KV cache
	Evaluated   int           // prompt tokens decoded
	Generated   int           // tokens generated
}

// streamSample is one stream-mode run.
type streamSample struct {
	FirstEnd  time.Duration // upstream's first sentence end (since send)
	TTFT      time.Duration // first corrected token at the client (since send)
	Sentences []sentenceSample
}

// alignerSample is one aligner-mode run.
type alignerSample struct {
	UpstreamEnd time.Duration // the upstream's last word (since send)
	TTFT        time.Duration // first corrected token at the client (since send)
	ToFirst     time.Duration // generation start to first token: prompt evaluation
	Cost        time.Duration // the whole generation
	Prompt      int
}

// ErrShape marks a run whose pieces do not line up (a sentence lost, a
// generation missing).
var ErrShape = errors.New("run does not line up")

// newStreamSample lines up the client's view, the upstream's sentence ends
// and the model calls of one stream-mode run: one call and one corrected
// delta per sentence, in order.
func newStreamSample(s streamed, ends []time.Time, calls []call) (streamSample, error) {
	deltas := s.sentenceDeltas()
	if len(deltas) != len(ends) || len(calls) != len(ends) || len(ends) == 0 {
		return streamSample{}, fmt.Errorf("%w: %d sentence ends, %d corrected deltas, %d generations", ErrShape, len(ends), len(deltas), len(calls))
	}
	out := streamSample{FirstEnd: ends[0].Sub(s.Sent), TTFT: deltas[0].At.Sub(s.Sent)}
	for k, end := range ends {
		c := calls[k]
		if c.Err != nil {
			return streamSample{}, fmt.Errorf("%w: sentence %d: %w", ErrShape, k+1, c.Err)
		}
		out.Sentences = append(out.Sentences, sentenceSample{
			UpstreamEnd: end.Sub(s.Sent), Emitted: deltas[k].At.Sub(s.Sent), Added: deltas[k].At.Sub(end),
			Waited: c.Start.Sub(end), Cost: c.Cost(), Prompt: c.Result.PromptTokens, Reused: c.Result.ReusedTokens,
			Evaluated: c.Result.EvaluatedTokens, Generated: c.Result.CompletionTokens,
		})
	}
	return out, nil
}

// newAlignerSample reads one aligner-mode run: one generation of the whole
// answer.
func newAlignerSample(s streamed, ends []time.Time, calls []call) (alignerSample, error) {
	if len(s.Deltas) == 0 || len(calls) != 1 || len(ends) == 0 || calls[0].Err != nil {
		return alignerSample{}, fmt.Errorf("%w: aligner: %d deltas, %d generations, %d sentence ends", ErrShape, len(s.Deltas), len(calls), len(ends))
	}
	c := calls[0]
	return alignerSample{
		UpstreamEnd: ends[len(ends)-1].Sub(s.Sent), TTFT: s.Deltas[0].At.Sub(s.Sent),
		ToFirst: c.FirstToken.Sub(c.Start), Cost: c.Cost(), Prompt: c.Result.PromptTokens,
	}, nil
}

// median returns the median of ds (the mean of the middle two for an even
// count), 0 for none.
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// medianInt is median for counts.
func medianInt(xs []int) int {
	ds := make([]time.Duration, len(xs))
	for i, x := range xs {
		ds[i] = time.Duration(x)
	}
	return int(median(ds))
}

// collect maps each sample to a duration.
func collect[T any](samples []T, f func(T) time.Duration) []time.Duration {
	out := make([]time.Duration, len(samples))
	for i, s := range samples {
		out[i] = f(s)
	}
	return out
}

// ms formats d in milliseconds with one decimal.
func ms(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d)/float64(time.Millisecond)) }

// spread formats the median of ds and its range.
func spread(ds []time.Duration) string {
	if len(ds) == 0 {
		return "—"
	}
	return fmt.Sprintf("%s (%s–%s)", ms(median(ds)), ms(slices.Min(ds)), ms(slices.Max(ds)))
}
