package main

import (
	"bufio"
	"fmt"
	"io"
	"time"
)

// targetSlack is the allowance on the stream-mode target: the first
// corrected token no later than the upstream's first sentence end plus one
// sentence correction, +10%.
const targetSlack = 1.10

// flatLimit is how much the last sentence's correction may cost over the
// second's and still count as flat.
const flatLimit = 1.20

// write prints the report as Markdown.
func (r *results) write(out io.Writer) error {
	w := bufio.NewWriter(out)
	for _, line := range r.env {
		fmt.Fprintf(w, "- %s\n", line)
	}
	fmt.Fprintln(w)
	r.writeHeadline(w)
	fmt.Fprintln(w)
	r.writeSentences(w)
	fmt.Fprintln(w)
	r.writeVerdicts(w)
	return w.Flush()
}

// streamCol maps stream samples to a duration.
func (r *results) streamCol(f func(streamSample) time.Duration) []time.Duration {
	return collect(r.stream, f)
}

// sentenceCol maps sentence k of every stream sample to a duration.
func (r *results) sentenceCol(k int, f func(sentenceSample) time.Duration) []time.Duration {
	return collect(r.stream, func(s streamSample) time.Duration { return f(s.Sentences[k]) })
}

// sentenceInt maps sentence k of every stream sample to a count, medianed.
func (r *results) sentenceInt(k int, f func(sentenceSample) int) int {
	xs := make([]int, len(r.stream))
	for i, s := range r.stream {
		xs[i] = f(s.Sentences[k])
	}
	return medianInt(xs)
}

// budget is the stream-mode target of each run: first sentence end plus its
// correction, with the slack.
func (r *results) budget() []time.Duration {
	return r.streamCol(func(s streamSample) time.Duration {
		return time.Duration(float64(s.FirstEnd+s.Sentences[0].Cost) * targetSlack)
	})
}

func (r *results) writeHeadline(w io.Writer) {
	fmt.Fprintf(w, "| measure (client streaming) | median ms (min–max, %d runs) |\n|---|--:|\n", r.runs)
	rows := []struct {
		name string
		ds   []time.Duration
	}{
		{"upstream: first sentence complete", r.streamCol(func(s streamSample) time.Duration { return s.FirstEnd })},
		{"upstream: last word", collect(r.aligner, func(a alignerSample) time.Duration { return a.UpstreamEnd })},
		{"**aligner: first corrected token**", collect(r.aligner, func(a alignerSample) time.Duration { return a.TTFT })},
		{"aligner: prompt evaluation of the whole answer (generation start → first token)", collect(r.aligner, func(a alignerSample) time.Duration { return a.ToFirst })},
		{"aligner: whole correction (generation)", collect(r.aligner, func(a alignerSample) time.Duration { return a.Cost })},
		{"**stream: first corrected token**", r.streamCol(func(s streamSample) time.Duration { return s.TTFT })},
		{"stream: one sentence correction (sentence 1 generation)", r.sentenceCol(0, func(s sentenceSample) time.Duration { return s.Cost })},
		{"target: (first sentence complete + one correction) × 1.10", r.budget()},
	}
	for _, row := range rows {
		fmt.Fprintf(w, "| %s | %s |\n", row.name, spread(row.ds))
	}
}

func (r *results) writeSentences(w io.Writer) {
	fmt.Fprintln(w, "Stream mode, per sentence (medians, ms; tokens as the engine counts them):")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| sentence | upstream complete | corrected at client | added | waited for model | correction | prompt tok | reused | evaluated | generated | correction without reuse | evaluated without reuse |")
	fmt.Fprintln(w, "|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
	for k := range r.sentences {
		nr, nrEval := "—", "—"
		if k < len(r.noReuse) {
			nr = ms(median(collect(r.noReuse[k], call.Cost)))
			evals := make([]int, len(r.noReuse[k]))
			for i, c := range r.noReuse[k] {
				evals[i] = c.Result.EvaluatedTokens
			}
			nrEval = fmt.Sprint(medianInt(evals))
		}
		fmt.Fprintf(w, "| %d | %s | %s | %s | %s | %s | %d | %d | %d | %d | %s | %s |\n", k+1,
			ms(median(r.sentenceCol(k, func(s sentenceSample) time.Duration { return s.UpstreamEnd }))),
			ms(median(r.sentenceCol(k, func(s sentenceSample) time.Duration { return s.Emitted }))),
			ms(median(r.sentenceCol(k, func(s sentenceSample) time.Duration { return s.Added }))),
			ms(median(r.sentenceCol(k, func(s sentenceSample) time.Duration { return s.Waited }))),
			ms(median(r.sentenceCol(k, func(s sentenceSample) time.Duration { return s.Cost }))),
			r.sentenceInt(k, func(s sentenceSample) int { return s.Prompt }),
			r.sentenceInt(k, func(s sentenceSample) int { return s.Reused }),
			r.sentenceInt(k, func(s sentenceSample) int { return s.Evaluated }),
			r.sentenceInt(k, func(s sentenceSample) int { return s.Generated }),
			nr, nrEval)
	}
}

// verdict returns a check mark for ok.
func verdict(ok bool) string {
	if ok {
		return "met ✅"
	}
	return "missed ❌"
}

func (r *results) writeVerdicts(w io.Writer) {
	ttft := r.streamCol(func(s streamSample) time.Duration { return s.TTFT })
	budget := r.budget()
	within := 0
	for i := range ttft {
		if ttft[i] <= budget[i] {
			within++
		}
	}
	fmt.Fprintf(w, "- Stream first token %s ms vs target %s ms (medians): %s; within its own run's target in %d of %d runs.\n",
		ms(median(ttft)), ms(median(budget)), verdict(median(ttft) <= median(budget)), within, len(ttft))
	aligner := median(collect(r.aligner, func(a alignerSample) time.Duration { return a.TTFT }))
	if median(ttft) > 0 {
		fmt.Fprintf(w, "- Stream mode shows the first corrected token %.1f× sooner than aligner mode (%s vs %s ms).\n",
			float64(aligner)/float64(median(ttft)), ms(median(ttft)), ms(aligner))
	}
	last := r.sentences - 1
	cost2 := median(r.sentenceCol(1, func(s sentenceSample) time.Duration { return s.Cost }))
	cost6 := median(r.sentenceCol(last, func(s sentenceSample) time.Duration { return s.Cost }))
	added2 := median(r.sentenceCol(1, func(s sentenceSample) time.Duration { return s.Added }))
	added6 := median(r.sentenceCol(last, func(s sentenceSample) time.Duration { return s.Added }))
	eval2 := r.sentenceInt(1, func(s sentenceSample) int { return s.Evaluated })
	eval6 := r.sentenceInt(last, func(s sentenceSample) int { return s.Evaluated })
	fmt.Fprintf(w, "- Prompt tokens evaluated with prefix reuse, sentence %d vs 2: %d vs %d (×%.2f, flat if ≤ ×%.2f): %s.\n",
		last+1, eval6, eval2, float64(eval6)/float64(eval2), flatLimit, verdict(float64(eval6) <= flatLimit*float64(eval2)))
	flat := float64(cost6) / float64(cost2)
	fmt.Fprintf(w, "- Per-sentence correction time with prefix reuse, sentence %d vs 2: %s vs %s ms (×%.2f, flat if ≤ ×%.2f): %s. Added latency sentence %d vs 2: %s vs %s ms.\n",
		last+1, ms(cost6), ms(cost2), flat, flatLimit, verdict(flat <= flatLimit), last+1, ms(added6), ms(added2))
	if len(r.noReuse) > last {
		nr2, nr6 := median(collect(r.noReuse[1], call.Cost)), median(collect(r.noReuse[last], call.Cost))
		fmt.Fprintf(w, "- Without prefix reuse the same corrections cost %s vs %s ms (×%.2f).\n", ms(nr6), ms(nr2), float64(nr6)/float64(nr2))
	}
}
