package gguf

import (
	"fmt"
	"math/rand/v2"
)

// Token types of tokenizer.ggml.token_type (llama_token_type).
const (
	tokenNormal  int32 = 1
	tokenUnknown int32 = 2
	tokenControl int32 = 3
	tokenByte    int32 = 6
)

// Special token ids of the synthetic vocabulary.
const (
	UnknownID = 0
	BOSID     = 1
	EOSID     = 2
)

// spmSpace is SentencePiece's visible space.
const spmSpace = "\u2581"

// commonWords give English text realistic multi-character tokens.
var commonWords = []string{
	"the", "of", "and", "to", "in", "is", "that", "it", "for", "was", "on", "are", "as", "with", "be",
	"this", "at", "by", "not", "or", "from", "but", "have", "an", "they", "which", "you", "were", "can",
	"all", "their", "has", "there", "been", "if", "more", "when", "will", "would", "who", "so", "no",
	"answer", "question", "user", "assistant", "correct", "safe", "help", "helpful", "harmless", "model",
	"sentence", "text", "response", "please", "edit", "following", "make", "more", "here", "what", "how",
	"because", "about", "into", "than", "then", "them", "these", "some", "other", "time", "one", "two",
}

// Vocab is a synthetic SentencePiece ("llama" tokenizer model) vocabulary:
// <unk>, <s>, </s>, the 256 byte-fallback tokens, printable ASCII with and
// without the SentencePiece space, common English words, then deterministic
// pseudo-random lowercase words until the requested size.
type Vocab struct {
	Tokens []string
	Scores []float32
	Types  []int32
}

// NewVocab builds a vocabulary of exactly n tokens (n >= 512).
func NewVocab(n int, seed uint64) *Vocab {
	v := &Vocab{}
	seen := map[string]bool{}
	add := func(tok string, typ int32) {
		if seen[tok] || len(v.Tokens) >= n {
			return
		}
		seen[tok] = true
		v.Tokens = append(v.Tokens, tok)
		v.Types = append(v.Types, typ)
		v.Scores = append(v.Scores, -float32(len(v.Scores)))
	}
	add("<unk>", tokenUnknown)
	add("<s>", tokenControl)
	add("</s>", tokenControl)
	for b := range 256 {
		add(fmt.Sprintf("<0x%02X>", b), tokenByte)
	}
	add(spmSpace, tokenNormal)
	for c := byte('!'); c <= '~'; c++ {
		add(string(c), tokenNormal)
		add(spmSpace+string(c), tokenNormal)
	}
	for _, w := range commonWords {
		add(spmSpace+w, tokenNormal)
	}
	r := rand.New(rand.NewPCG(seed, 0x766f636162))
	for len(v.Tokens) < n {
		word := make([]byte, 2+r.IntN(6))
		for i := range word {
			word[i] = byte('a' + r.IntN(26))
		}
		if r.IntN(2) == 0 {
			add(spmSpace+string(word), tokenNormal)
		} else {
			add(string(word), tokenNormal)
		}
	}
	return v
}

// KVs returns the tokenizer metadata for the vocabulary.
func (v *Vocab) KVs() []KV {
	return []KV{
		{"tokenizer.ggml.model", "llama"},
		{"tokenizer.ggml.tokens", v.Tokens},
		{"tokenizer.ggml.scores", v.Scores},
		{"tokenizer.ggml.token_type", v.Types},
		{"tokenizer.ggml.bos_token_id", uint32(BOSID)},
		{"tokenizer.ggml.eos_token_id", uint32(EOSID)},
		{"tokenizer.ggml.unknown_token_id", uint32(UnknownID)},
		{"tokenizer.ggml.add_bos_token", true},
		{"tokenizer.ggml.add_eos_token", false},
		{"tokenizer.ggml.add_space_prefix", true},
	}
}

// zeroRows lists the ids whose output rows are zeroed: the special and the
// byte-fallback tokens, so random weights neither end generations early nor
// emit invalid UTF-8.
func (v *Vocab) zeroRows() map[int]bool {
	z := map[int]bool{}
	for i, typ := range v.Types {
		if typ != tokenNormal {
			z[i] = true
		}
	}
	return z
}
