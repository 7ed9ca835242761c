package eval

import (
	"math/rand/v2"
	"slices"
)

// Summary is one dimension's tally. Omega and its interval are percentages.
type Summary struct {
	Dimension  Dimension
	Win        int
	Tie        int
	Loss       int
	Unparsable int
	Failed     int
	// Omega is (W − L) / (W + L + T) × 100; 0 when nothing was decided.
	Omega float64
	// Low and High bound the 95% percentile bootstrap interval of Omega.
	Low, High float64
}

// Omega returns (w − l) / (w + l + t) × 100, or 0 when w + l + t is 0.
func Omega(w, t, l int) float64 {
	n := w + t + l
	if n == 0 {
		return 0
	}
	return float64(w-l) / float64(n) * 100
}

// Summarize tallies a dimension and bootstraps ω: it resamples the pairs
// with replacement (failed pairs left out, unparsable ones kept, as they
// dilute nothing but are part of the sample) b times with a PCG generator
// seeded by seed, so the interval is reproducible.
func Summarize(d Dimension, pairs []PairResult, b int, seed uint64) Summary {
	s := Summary{Dimension: d}
	var outs []Outcome
	for _, p := range pairs {
		o := p.Outcomes[d]
		switch o {
		case Win:
			s.Win++
		case Tie:
			s.Tie++
		case Loss:
			s.Loss++
		case Unparsable:
			s.Unparsable++
		case Failed:
			s.Failed++
			continue
		default:
			continue
		}
		outs = append(outs, o)
	}
	s.Omega = Omega(s.Win, s.Tie, s.Loss)
	s.Low, s.High = bootstrap(outs, b, seed)
	return s
}

// bootstrap returns the 2.5th and 97.5th percentiles of ω over b
// resamples.
func bootstrap(outs []Outcome, b int, seed uint64) (lo, hi float64) {
	if len(outs) == 0 || b <= 0 {
		return 0, 0
	}
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	omegas := make([]float64, b)
	for i := range omegas {
		var w, t, l int
		for range outs {
			switch outs[rng.IntN(len(outs))] {
			case Win:
				w++
			case Tie:
				t++
			case Loss:
				l++
			}
		}
		omegas[i] = Omega(w, t, l)
	}
	slices.Sort(omegas)
	return omegas[int(0.025*float64(b))], omegas[min(b-1, int(0.975*float64(b)))]
}
