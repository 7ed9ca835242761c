#!/usr/bin/env bash
# bench/llamacpp/run.sh [extra flags for the Go benchmark]
#
# Compares aligngate's in-process llama.cpp engine with llama.cpp's own runner
# (node-llama-cpp 3.22.1, same v0.5.0 libraries, same model file) on a random
# Qwen2.5-0.5B-shaped Q8_0 model. Prints a markdown table for bench/RESULTS.md.
#
# Environment: THREADS (default 2), WEIGHTS (q8_0, q4_0 or f16; default q8_0).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"

weights="${WEIGHTS:-q8_0}"
model="bench/out/qwen05b-$weights.gguf"

scripts/install-llama.sh >/dev/null
export YZMA_LIB="$repo/.llama/lib"

mkdir -p bench/out
if [[ ! -f "$model" ]]; then
	echo "writing $model ..." >&2
	go run ./cmd/mkgguf -shape qwen0.5b -type "$weights" -out "$model"
fi

if [[ ! -d bench/llamacpp/node/node_modules/node-llama-cpp ]]; then
	(cd bench/llamacpp/node && npm install --no-audit --no-fund --ignore-scripts >&2)
fi

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
go run ./bench/llamacpp -model "$model" -threads "${THREADS:-2}" "$@"
