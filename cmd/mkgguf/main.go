// Command mkgguf writes a random-weight llama-architecture GGUF model for
// tests and benchmarks of the in-process llama.cpp engine.
//
//	mkgguf -shape tiny -out tiny.gguf
//	mkgguf -shape qwen0.5b -type q8_0 -out bench.gguf
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/aligngate/aligngate/llamacpp/gguf"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "mkgguf:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("mkgguf", flag.ContinueOnError)
	shape := fs.String("shape", "tiny", "model shape: tiny (2 layers, 64 wide) or qwen0.5b (Qwen2.5-0.5B dimensions)")
	typ := fs.String("type", "", "weight type: f32, f16, q8_0, q4_0 (default f32 for tiny, q8_0 for qwen0.5b)")
	out := fs.String("out", "", "output file (required)")
	seed := fs.Uint64("seed", 1, "random seed")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("-out is required")
	}
	var spec gguf.LlamaSpec
	switch *shape {
	case "tiny":
		spec = gguf.TinySpec()
	case "qwen0.5b":
		spec = gguf.Qwen05BSpec(gguf.Q8_0)
	default:
		return fmt.Errorf("unknown shape %q", *shape)
	}
	if *typ != "" {
		t, err := parseType(*typ)
		if err != nil {
			return err
		}
		spec.Type = t
	}
	spec.Seed = *seed
	return gguf.WriteLlama(*out, spec)
}

func parseType(s string) (gguf.TensorType, error) {
	for _, t := range []gguf.TensorType{gguf.F32, gguf.F16, gguf.Q8_0, gguf.Q4_0} {
		if t.String() == s {
			return t, nil
		}
	}
	return 0, fmt.Errorf("unknown weight type %q", s)
}
