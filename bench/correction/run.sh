#!/usr/bin/env bash
# bench/correction/run.sh [tiny|qwen0.5b] [extra flags for the Go program]
#
# Correction latency on the in-process llama.cpp engine: aligner vs stream
# mode time to first corrected token against a mock upstream at 50 tokens/s,
# the cost of one sentence correction, and the per-sentence added latency
# with and without prefix reuse. Prints a Markdown report (also written to
# bench/out/correction-SHAPE.md).
#
# tiny (default) is the 0.8 MB random test model; qwen0.5b is a random
# Qwen2.5-0.5B-shaped Q8_0 model (about 670 MB, written once to bench/out/
# with cmd/mkgguf). Environment: THREADS (llamacpp.threads, default 1),
# RUNS (default 5).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"

shape="${1:-tiny}"
shift || true

scripts/install-llama.sh >/dev/null
export YZMA_LIB="$repo/.llama/lib"
mkdir -p bench/out

model_flag=()
case "$shape" in
tiny) ;;
qwen0.5b)
	model="bench/out/qwen05b-q8_0.gguf"
	if [[ ! -f "$model" ]]; then
		echo "writing $model ..." >&2
		go run ./cmd/mkgguf -shape qwen0.5b -type q8_0 -out "$model"
	fi
	model_flag=(-model "$model")
	;;
*)
	echo "run.sh: unknown shape $shape (tiny or qwen0.5b)" >&2
	exit 2
	;;
esac

{
	echo "- machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; commit $(git rev-parse --short HEAD)"
	go run ./bench/correction "${model_flag[@]}" -threads "${THREADS:-1}" -runs "${RUNS:-5}" "$@"
} | tee "bench/out/correction-$shape.md"
