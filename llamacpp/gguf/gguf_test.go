package gguf

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// minimal is a small file covering every metadata value type and tensor
// types whose encodings are fixed (F32 and F16 of constant values).
func minimal() *File {
	constant := func(b []byte, n int) func(io.Writer) error {
		return func(w io.Writer) error {
			_, err := w.Write(bytes.Repeat(b, n))
			return err
		}
	}
	return &File{
		KVs: []KV{
			{"general.architecture", "llama"},
			{"u32", uint32(7)},
			{"i32", int32(-7)},
			{"f32", float32(1.5)},
			{"bool", true},
			{"strings", []string{"a", "bc"}},
			{"floats", []float32{0.5, -1}},
			{"ints", []int32{1, -2}},
		},
		Tensors: []Tensor{
			{Name: "a", Type: F32, Dims: []uint64{3}, Fill: constant([]byte{0, 0, 0x80, 0x3f}, 3)},
			{Name: "b", Type: F16, Dims: []uint64{2, 2}, Fill: constant([]byte{0, 0x3c}, 4)},
		},
	}
}

func TestWriteGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := minimal().Write(&buf); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "minimal.gguf")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("encoding differs from %s (run with -update after checking the change)", golden)
	}
	info, err := Inspect(golden)
	if err != nil {
		t.Fatal(err)
	}
	if info.Arch != "llama" || info.KVCount != 8 || info.TensorCount != 2 || info.DataBytes != 32+8 {
		t.Fatalf("inspect: %+v", info)
	}
}

func TestWriteRejectsBadTensors(t *testing.T) {
	tests := []struct {
		name string
		f    File
	}{
		{"short fill", File{Tensors: []Tensor{{Name: "x", Type: F32, Dims: []uint64{4}, Fill: func(w io.Writer) error {
			_, err := w.Write(make([]byte, 8))
			return err
		}}}}},
		{"unaligned q8_0", File{Tensors: []Tensor{{Name: "x", Type: Q8_0, Dims: []uint64{30}}}}},
		{"bad metadata type", File{KVs: []KV{{"x", 3.0}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.f.Write(io.Discard); !errors.Is(err, ErrInvalid) {
				t.Fatalf("err %v, want ErrInvalid", err)
			}
		})
	}
}

func TestInspect(t *testing.T) {
	dir := t.TempDir()
	tiny := filepath.Join(dir, "tiny.gguf")
	if err := WriteLlama(tiny, TinySpec()); err != nil {
		t.Fatal(err)
	}
	other := TinySpec()
	other.Seed = 2
	tiny2 := filepath.Join(dir, "tiny2.gguf")
	if err := WriteLlama(tiny2, other); err != nil {
		t.Fatal(err)
	}
	a, err := Inspect(tiny)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := Inspect(tiny)
	b, err := Inspect(tiny2)
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != again.ID || a.ID == b.ID {
		t.Fatalf("ids: %s, %s (same file), %s (other seed)", a.ID, again.ID, b.ID)
	}
	if a.Arch != "llama" || uint64(a.FileSize) < a.DataBytes {
		t.Fatalf("info %+v", a)
	}

	data, _ := os.ReadFile(tiny)
	bad := map[string]struct {
		data []byte
		want error
	}{
		"random":          {[]byte("this is not a gguf file at all"), ErrNotGGUF},
		"empty":           {nil, ErrNotGGUF},
		"header cut":      {data[:100], ErrTruncated},
		"tensor data cut": {data[:len(data)-100], ErrTruncated},
	}
	for name, tt := range bad {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, "bad.gguf")
			if err := os.WriteFile(p, tt.data, 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := Inspect(p); !errors.Is(err, tt.want) {
				t.Fatalf("err %v, want %v", err, tt.want)
			}
		})
	}
}

func TestWriteLlamaTypes(t *testing.T) {
	spec := TinySpec()
	for _, typ := range []TensorType{F16, Q8_0, Q4_0} {
		spec.Type = typ
		f, err := LlamaFile(spec)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := f.Write(&buf); err != nil {
			t.Fatalf("%v: %v", typ, err)
		}
		p := filepath.Join(t.TempDir(), "m.gguf")
		if err := os.WriteFile(p, buf.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Inspect(p); err != nil {
			t.Fatalf("%v: %v", typ, err)
		}
	}
	spec.Embd = 60
	if _, err := LlamaFile(spec); !errors.Is(err, ErrInvalid) {
		t.Fatalf("embd 60: %v", err)
	}
}

func TestF16(t *testing.T) {
	tests := []struct {
		in   float32
		want uint16
	}{
		{0, 0}, {1, 0x3c00}, {-2, 0xc000}, {0.5, 0x3800}, {65504, 0x7bff}, {1e6, 0x7c00}, {1e-10, 0},
		{1.0009765625, 0x3c01}, // exactly representable
	}
	for _, tt := range tests {
		if got := f16(tt.in); got != tt.want {
			t.Errorf("f16(%g) = %#04x, want %#04x", tt.in, got, tt.want)
		}
	}
}

func TestVocab(t *testing.T) {
	v := NewVocab(600, 1)
	if len(v.Tokens) != 600 || len(v.Scores) != 600 || len(v.Types) != 600 {
		t.Fatalf("sizes %d %d %d", len(v.Tokens), len(v.Scores), len(v.Types))
	}
	if v.Tokens[BOSID] != "<s>" || v.Tokens[EOSID] != "</s>" || v.Tokens[3] != "<0x00>" {
		t.Fatalf("special tokens %q", v.Tokens[:4])
	}
	seen := map[string]bool{}
	for _, tok := range v.Tokens {
		if seen[tok] {
			t.Fatalf("duplicate token %q", tok)
		}
		seen[tok] = true
	}
}
