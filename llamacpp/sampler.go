package llamacpp

import (
	"fmt"
	"unicode/utf8"

	"github.com/hybridgroup/yzma/pkg/llama"
)

// penaltyWindow is how many recent tokens the repetition penalties look at.
const penaltyWindow = 64

// validate reports the first out-of-range parameter.
func (p Params) validate() error {
	switch {
	case p.MaxTokens <= 0:
		return fmt.Errorf("%w: max tokens %d must be > 0", ErrInvalidParams, p.MaxTokens)
	case p.Temperature < 0:
		return fmt.Errorf("%w: temperature %g must be >= 0", ErrInvalidParams, p.Temperature)
	case p.TopK < 0:
		return fmt.Errorf("%w: top-k %d must be >= 0", ErrInvalidParams, p.TopK)
	case p.TopP < 0 || p.TopP > 1:
		return fmt.Errorf("%w: top-p %g must be in [0,1]", ErrInvalidParams, p.TopP)
	case p.MinP < 0 || p.MinP > 1:
		return fmt.Errorf("%w: min-p %g must be in [0,1]", ErrInvalidParams, p.MinP)
	case p.RepeatPenalty < 0:
		return fmt.Errorf("%w: repeat penalty %g must be >= 0", ErrInvalidParams, p.RepeatPenalty)
	}
	for _, s := range p.Stop {
		if s == "" || !utf8.ValidString(s) {
			return fmt.Errorf("%w: stop string %q is empty or not UTF-8", ErrInvalidParams, s)
		}
	}
	return nil
}

// newSampler builds the llama.cpp sampler chain for p: penalties, then
// greedy when Temperature is 0, else top-k, top-p, min-p, temperature and a
// seeded draw. The caller frees it with llama.SamplerFree.
func newSampler(p Params) llama.Sampler {
	chain := llama.SamplerChainInit(llama.SamplerChainDefaultParams())
	repeat := p.RepeatPenalty
	if repeat == 0 {
		repeat = 1
	}
	if repeat != 1 || p.FrequencyPenalty != 0 {
		llama.SamplerChainAdd(chain, llama.SamplerInitPenalties(0, penaltyWindow, repeat, p.FrequencyPenalty, 0))
	}
	if p.Temperature == 0 {
		llama.SamplerChainAdd(chain, llama.SamplerInitGreedy())
		return chain
	}
	if p.TopK > 0 {
		llama.SamplerChainAdd(chain, llama.SamplerInitTopK(int32(p.TopK)))
	}
	if p.TopP > 0 && p.TopP < 1 {
		llama.SamplerChainAdd(chain, llama.SamplerInitTopP(p.TopP, 1))
	}
	if p.MinP > 0 {
		llama.SamplerChainAdd(chain, llama.SamplerInitMinP(p.MinP, 1))
	}
	llama.SamplerChainAdd(chain, llama.SamplerInitTemp(p.Temperature))
	llama.SamplerChainAdd(chain, llama.SamplerInitDist(p.Seed))
	return chain
}
