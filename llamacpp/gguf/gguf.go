// Package gguf writes GGUF model files (the llama.cpp container format,
// version 3) and builds random-weight llama-architecture models with a
// synthetic SentencePiece-style vocabulary.
//
// No trained model can be downloaded in our test and benchmark environments,
// so tests generate a tiny model with [WriteLlama] and the benchmark a
// realistically shaped one. Random weights give deterministic gibberish:
// enough to exercise loading, tokenization, sampling, batching and the KV
// cache, nothing more.
package gguf

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// Magic is the first four bytes of every GGUF file.
const Magic = "GGUF"

// Version is the GGUF format version this package writes.
const Version = 3

// DefaultAlignment is the alignment of tensor data when the file does not
// set general.alignment.
const DefaultAlignment = 32

// ErrInvalid reports a file or tensor description that cannot be written.
var ErrInvalid = errors.New("gguf: invalid")

// valueType is the GGUF metadata value type tag.
type valueType uint32

const (
	typeUint32  valueType = 4
	typeInt32   valueType = 5
	typeFloat32 valueType = 6
	typeBool    valueType = 7
	typeString  valueType = 8
	typeArray   valueType = 9
)

// TensorType is a ggml tensor element type.
type TensorType uint32

// Tensor types this package can write.
const (
	F32  TensorType = 0
	F16  TensorType = 1
	Q4_0 TensorType = 2
	Q8_0 TensorType = 8
)

// String returns the ggml name of the type.
func (t TensorType) String() string {
	switch t {
	case F32:
		return "f32"
	case F16:
		return "f16"
	case Q4_0:
		return "q4_0"
	case Q8_0:
		return "q8_0"
	}
	return fmt.Sprintf("type(%d)", uint32(t))
}

// blockSize returns the number of elements per block and bytes per block.
func (t TensorType) blockSize() (elems, bytes int) {
	switch t {
	case F32:
		return 1, 4
	case F16:
		return 1, 2
	case Q4_0:
		return 32, 18
	case Q8_0:
		return 32, 34
	}
	return 0, 0
}

// KV is one metadata key/value pair. Value is one of uint32, int32,
// float32, bool, string, []string, []float32 or []int32.
type KV struct {
	Key   string
	Value any
}

// Tensor describes one tensor. Dims lists ne0 first (the innermost,
// contiguous dimension), as llama.cpp does. Fill writes exactly Size() bytes.
type Tensor struct {
	Name string
	Type TensorType
	Dims []uint64
	Fill func(w io.Writer) error
}

// Elements returns the number of elements in the tensor.
func (t Tensor) Elements() uint64 {
	n := uint64(1)
	for _, d := range t.Dims {
		n *= d
	}
	return n
}

// Size returns the tensor's data size in bytes.
func (t Tensor) Size() (uint64, error) {
	elems, bytes := t.Type.blockSize()
	if elems == 0 {
		return 0, fmt.Errorf("%w: tensor %s: unsupported type %v", ErrInvalid, t.Name, t.Type)
	}
	if len(t.Dims) == 0 || t.Dims[0]%uint64(elems) != 0 {
		return 0, fmt.Errorf("%w: tensor %s: first dimension must be a multiple of %d", ErrInvalid, t.Name, elems)
	}
	return t.Elements() / uint64(elems) * uint64(bytes), nil
}

// File is a GGUF file to be written.
type File struct {
	KVs     []KV
	Tensors []Tensor
}

// Write encodes f to w: header, metadata, tensor infos, then the tensor data
// streamed from each tensor's Fill, aligned to [DefaultAlignment].
func (f *File) Write(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	ew := &errWriter{w: bw}
	ew.bytes([]byte(Magic))
	ew.u32(Version)
	ew.u64(uint64(len(f.Tensors)))
	ew.u64(uint64(len(f.KVs)))
	for _, kv := range f.KVs {
		ew.str(kv.Key)
		if err := ew.value(kv.Value); err != nil {
			return fmt.Errorf("key %s: %w", kv.Key, err)
		}
	}
	sizes, err := f.writeInfos(ew)
	if err != nil {
		return err
	}
	ew.pad(DefaultAlignment)
	for i, t := range f.Tensors {
		cw := &countWriter{w: ew}
		if ew.err == nil {
			if err := t.Fill(cw); err != nil {
				return fmt.Errorf("tensor %s: %w", t.Name, err)
			}
		}
		if ew.err == nil && cw.n != sizes[i] {
			return fmt.Errorf("%w: tensor %s: Fill wrote %d bytes, want %d", ErrInvalid, t.Name, cw.n, sizes[i])
		}
		ew.pad(DefaultAlignment)
	}
	if ew.err != nil {
		return fmt.Errorf("gguf: write: %w", ew.err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("gguf: write: %w", err)
	}
	return nil
}

// writeInfos writes the tensor info table and returns each tensor's size.
func (f *File) writeInfos(ew *errWriter) ([]uint64, error) {
	sizes := make([]uint64, len(f.Tensors))
	var offset uint64
	for i, t := range f.Tensors {
		size, err := t.Size()
		if err != nil {
			return nil, err
		}
		sizes[i] = size
		ew.str(t.Name)
		ew.u32(uint32(len(t.Dims)))
		for _, d := range t.Dims {
			ew.u64(d)
		}
		ew.u32(uint32(t.Type))
		ew.u64(offset)
		offset = alignUp(offset+size, DefaultAlignment)
	}
	return sizes, nil
}

func alignUp(n, a uint64) uint64 { return (n + a - 1) / a * a }

// errWriter remembers the first write error so encoding code stays linear.
type errWriter struct {
	w   io.Writer
	n   uint64
	err error
	buf [8]byte
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.n += uint64(n)
	e.err = err
	return n, err
}

func (e *errWriter) bytes(p []byte) { _, _ = e.Write(p) }

func (e *errWriter) u32(v uint32) {
	binary.LittleEndian.PutUint32(e.buf[:4], v)
	e.bytes(e.buf[:4])
}

func (e *errWriter) u64(v uint64) {
	binary.LittleEndian.PutUint64(e.buf[:8], v)
	e.bytes(e.buf[:8])
}

func (e *errWriter) str(s string) {
	e.u64(uint64(len(s)))
	e.bytes([]byte(s))
}

func (e *errWriter) pad(a uint64) {
	if rem := e.n % a; rem != 0 {
		e.bytes(make([]byte, a-rem))
	}
}

// value writes a typed metadata value.
func (e *errWriter) value(v any) error {
	switch v := v.(type) {
	case uint32:
		e.u32(uint32(typeUint32))
		e.u32(v)
	case int32:
		e.u32(uint32(typeInt32))
		e.u32(uint32(v))
	case float32:
		e.u32(uint32(typeFloat32))
		e.u32(math.Float32bits(v))
	case bool:
		e.u32(uint32(typeBool))
		b := byte(0)
		if v {
			b = 1
		}
		e.bytes([]byte{b})
	case string:
		e.u32(uint32(typeString))
		e.str(v)
	case []string:
		e.arrayHeader(typeString, len(v))
		for _, s := range v {
			e.str(s)
		}
	case []float32:
		e.arrayHeader(typeFloat32, len(v))
		for _, f := range v {
			e.u32(math.Float32bits(f))
		}
	case []int32:
		e.arrayHeader(typeInt32, len(v))
		for _, n := range v {
			e.u32(uint32(n))
		}
	default:
		return fmt.Errorf("%w: unsupported metadata value %T", ErrInvalid, v)
	}
	return nil
}

func (e *errWriter) arrayHeader(t valueType, n int) {
	e.u32(uint32(typeArray))
	e.u32(uint32(t))
	e.u64(uint64(n))
}

// countWriter counts bytes written through it.
type countWriter struct {
	w io.Writer
	n uint64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += uint64(n)
	return n, err
}
