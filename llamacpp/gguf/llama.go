package gguf

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
)

// LlamaSpec shapes a random-weight llama-architecture model.
type LlamaSpec struct {
	Name       string     // general.name; default "aligngate-random"
	Vocab      int        // vocabulary size, at least 512
	Embd       int        // embedding width, a multiple of 32
	Layers     int        // transformer blocks
	Heads      int        // attention heads; Embd must divide by it
	HeadsKV    int        // key/value heads (grouped-query attention); default Heads
	FF         int        // feed-forward width, a multiple of 32
	ContextLen int        // llama.context_length; default 4096
	RopeBase   float32    // llama.rope.freq_base; default 10000
	Type       TensorType // type of the 2-D weight matrices: F32, F16, Q8_0 or Q4_0
	Seed       uint64     // weights and vocabulary are a pure function of the spec
}

// TinySpec is the test model: 2 layers, 64 wide, 1024 tokens, F32 weights
// (about 1 MB).
func TinySpec() LlamaSpec {
	return LlamaSpec{Name: "aligngate-tiny", Vocab: 1024, Embd: 64, Layers: 2, Heads: 4, HeadsKV: 2, FF: 128, Type: F32, Seed: 1}
}

// Qwen05BSpec has the dimensions of Qwen2.5-0.5B (24 layers, 896 wide,
// 14 heads, 2 KV heads, 4864 FF, 151936 tokens) as a llama-architecture model
// without the Q/K/V biases, with weights of type t.
func Qwen05BSpec(t TensorType) LlamaSpec {
	return LlamaSpec{
		Name: "aligngate-qwen2.5-0.5b-shape", Vocab: 151936, Embd: 896, Layers: 24, Heads: 14, HeadsKV: 2,
		FF: 4864, ContextLen: 32768, RopeBase: 1e6, Type: t, Seed: 1,
	}
}

func (s *LlamaSpec) setDefaults() {
	if s.Name == "" {
		s.Name = "aligngate-random"
	}
	if s.HeadsKV == 0 {
		s.HeadsKV = s.Heads
	}
	if s.ContextLen == 0 {
		s.ContextLen = 4096
	}
	if s.RopeBase == 0 {
		s.RopeBase = 10000
	}
}

func (s LlamaSpec) validate() error {
	switch {
	case s.Vocab < 512:
		return fmt.Errorf("%w: vocab %d < 512", ErrInvalid, s.Vocab)
	case s.Embd <= 0 || s.Embd%32 != 0 || s.FF <= 0 || s.FF%32 != 0:
		return fmt.Errorf("%w: embd and ff must be positive multiples of 32", ErrInvalid)
	case s.Layers <= 0 || s.Heads <= 0 || s.Embd%s.Heads != 0:
		return fmt.Errorf("%w: layers and heads must be positive and divide embd", ErrInvalid)
	case s.HeadsKV <= 0 || s.Heads%s.HeadsKV != 0:
		return fmt.Errorf("%w: heads_kv must divide heads", ErrInvalid)
	}
	if elems, _ := s.Type.blockSize(); elems == 0 {
		return fmt.Errorf("%w: weight type %v", ErrInvalid, s.Type)
	}
	return nil
}

// WriteLlama writes the model described by spec to path.
func WriteLlama(path string, spec LlamaSpec) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("gguf: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("gguf: %w", cerr)
		}
	}()
	file, err := LlamaFile(spec)
	if err != nil {
		return err
	}
	return file.Write(f)
}

// LlamaFile builds the GGUF description of a random-weight llama model.
func LlamaFile(spec LlamaSpec) (*File, error) {
	spec.setDefaults()
	if err := spec.validate(); err != nil {
		return nil, err
	}
	v := NewVocab(spec.Vocab, spec.Seed)
	headDim := spec.Embd / spec.Heads
	kvDim := headDim * spec.HeadsKV
	kvs := []KV{
		{"general.architecture", "llama"},
		{"general.name", spec.Name},
		{"general.alignment", uint32(DefaultAlignment)},
		{"general.file_type", uint32(fileType(spec.Type))},
		{"llama.context_length", uint32(spec.ContextLen)},
		{"llama.embedding_length", uint32(spec.Embd)},
		{"llama.block_count", uint32(spec.Layers)},
		{"llama.feed_forward_length", uint32(spec.FF)},
		{"llama.attention.head_count", uint32(spec.Heads)},
		{"llama.attention.head_count_kv", uint32(spec.HeadsKV)},
		{"llama.rope.dimension_count", uint32(headDim)},
		{"llama.rope.freq_base", spec.RopeBase},
		{"llama.attention.layer_norm_rms_epsilon", float32(1e-6)},
		{"llama.vocab_size", uint32(spec.Vocab)},
	}
	kvs = append(kvs, v.KVs()...)
	g := &weights{seed: spec.Seed}
	tensors := []Tensor{
		g.matrix("token_embd.weight", spec.Type, spec.Embd, spec.Vocab, 0.5, nil),
		g.ones("output_norm.weight", spec.Embd),
		// Special and byte tokens get zero output rows (see zeroRows).
		g.matrix("output.weight", spec.Type, spec.Embd, spec.Vocab, 0.5, v.zeroRows()),
	}
	for i := range spec.Layers {
		p := fmt.Sprintf("blk.%d.", i)
		tensors = append(tensors,
			g.ones(p+"attn_norm.weight", spec.Embd),
			g.matrix(p+"attn_q.weight", spec.Type, spec.Embd, spec.Embd, 0.1, nil),
			g.matrix(p+"attn_k.weight", spec.Type, spec.Embd, kvDim, 0.1, nil),
			g.matrix(p+"attn_v.weight", spec.Type, spec.Embd, kvDim, 0.1, nil),
			g.matrix(p+"attn_output.weight", spec.Type, spec.Embd, spec.Embd, 0.1, nil),
			g.ones(p+"ffn_norm.weight", spec.Embd),
			g.matrix(p+"ffn_gate.weight", spec.Type, spec.Embd, spec.FF, 0.1, nil),
			g.matrix(p+"ffn_up.weight", spec.Type, spec.Embd, spec.FF, 0.1, nil),
			g.matrix(p+"ffn_down.weight", spec.Type, spec.FF, spec.Embd, 0.1, nil),
		)
	}
	return &File{KVs: kvs, Tensors: tensors}, nil
}

// fileType maps a weight type to llama_ftype (general.file_type).
func fileType(t TensorType) int {
	switch t {
	case F16:
		return 1
	case Q4_0:
		return 2
	case Q8_0:
		return 7
	}
	return 0
}

// weights hands out deterministic random tensors; each tensor draws from its
// own stream so the values do not depend on write order.
type weights struct {
	seed uint64
	n    uint64
}

func (g *weights) rng() *rand.Rand {
	g.n++
	return rand.New(rand.NewPCG(g.seed, g.n))
}

// ones is an F32 vector of 1s (RMS-norm weights).
func (g *weights) ones(name string, n int) Tensor {
	return Tensor{Name: name, Type: F32, Dims: []uint64{uint64(n)}, Fill: func(w io.Writer) error {
		buf := make([]byte, 4*n)
		for i := range n {
			binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(1))
		}
		_, err := w.Write(buf)
		return err
	}}
}

// matrix is a rows×cols weight (ne0 = cols, the input width) with values
// uniform in ±scale·sqrt(3/cols), so outputs have roughly unit variance
// times scale. Rows listed in zero are written as zeros.
func (g *weights) matrix(name string, t TensorType, cols, rows int, scale float64, zero map[int]bool) Tensor {
	r := g.rng()
	amp := scale * math.Sqrt(3/float64(cols))
	return Tensor{Name: name, Type: t, Dims: []uint64{uint64(cols), uint64(rows)}, Fill: func(w io.Writer) error {
		row := make([]byte, rowBytes(t, cols))
		for i := range rows {
			if zero[i] {
				clear(row) // a zero scale zeroes every quantised block too
			} else {
				fillRow(row, t, cols, amp, r)
			}
			if _, err := w.Write(row); err != nil {
				return err
			}
		}
		return nil
	}}
}

func rowBytes(t TensorType, cols int) int {
	elems, bytes := t.blockSize()
	return cols / elems * bytes
}

// fillRow encodes one row of uniform random values in ±amp.
func fillRow(row []byte, t TensorType, cols int, amp float64, r *rand.Rand) {
	switch t {
	case F32:
		for i := range cols {
			binary.LittleEndian.PutUint32(row[4*i:], math.Float32bits(float32(amp*(2*r.Float64()-1))))
		}
	case F16:
		for i := range cols {
			binary.LittleEndian.PutUint16(row[2*i:], f16(float32(amp*(2*r.Float64()-1))))
		}
	case Q8_0:
		// Block: f16 scale d, then 32 int8 quants q; value = d*q.
		fillBlocks(row, 34, f16(float32(amp/127)), func() byte { return byte(int8(r.IntN(255) - 127)) })
	case Q4_0:
		// Block: f16 scale d, then 16 bytes of 4-bit quants q; value = d*(q-8).
		fillBlocks(row, 18, f16(float32(amp/8)), func() byte { return byte(r.IntN(256)) })
	}
}

// fillBlocks writes quantised blocks of size bytes: the f16 scale d, then
// quant bytes from next.
func fillBlocks(row []byte, size int, d uint16, next func() byte) {
	for b := 0; b+size <= len(row); b += size {
		binary.LittleEndian.PutUint16(row[b:], d)
		for i := b + 2; i < b+size; i++ {
			row[i] = next()
		}
	}
}

// f16 converts a float32 to IEEE half precision (round to nearest even for
// normal numbers, flush to zero below the normal range).
func f16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int((b>>23)&0xff) - 127 + 15
	mant := b & 0x7fffff
	switch {
	case exp <= 0:
		return sign
	case exp >= 31:
		return sign | 0x7c00
	}
	h := uint32(exp)<<10 | mant>>13
	rest := mant & 0x1fff
	if rest > 0x1000 || (rest == 0x1000 && h&1 == 1) {
		h++
	}
	return sign | uint16(h)
}
