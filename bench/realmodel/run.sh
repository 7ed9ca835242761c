#!/usr/bin/env bash
# run.sh measures Aligner corrections with the real demo model on 50 HH-RLHF
# answers and compares the in-process engine with llama.cpp's own server
# (same release, built from the node-llama-cpp@3.22.1 source bundle) on the
# same prompts. Extra arguments go to the Go program (e.g. -n 20).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"
bash scripts/install-llama.sh .llama/lib >/dev/null
model="$(bash scripts/install-model.sh | tail -n 1)"
bash scripts/build-llama-tools.sh llama-server
server="${LLAMA_TOOLS_DIR:-$HOME/.cache/aligngate/llama-tools}/bin/llama-server"
YZMA_LIB="$repo/.llama/lib" go run ./bench/realmodel -model "$model" -server "$server" "$@"
