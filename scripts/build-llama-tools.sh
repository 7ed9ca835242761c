#!/usr/bin/env bash
# build-llama-tools.sh [TARGET ...] builds llama.cpp's own programs
# (llama-tokenize by default; llama-server for the benchmarks) from the source
# of the same release as the shared libraries aligngate loads: the git bundle
# llama/gitRelease.bundle inside the npm package node-llama-cpp@3.22.1.
#
# The build lands in ${LLAMA_TOOLS_DIR:-$HOME/.cache/aligngate/llama-tools}
# (bin/ holds the programs) and is reused: a target already built returns at
# once. CPU only; threads = nproc.
set -euo pipefail

pkg="node-llama-cpp@3.22.1"
root="${LLAMA_TOOLS_DIR:-$HOME/.cache/aligngate/llama-tools}"
targets=("$@")
((${#targets[@]})) || targets=(llama-tokenize)

missing=()
for t in "${targets[@]}"; do
	[[ -x "$root/bin/$t" ]] || missing+=("$t")
done
if ((${#missing[@]} == 0)); then
	echo "llama.cpp tools already built in $root/bin (${targets[*]})"
	exit 0
fi

for tool in git cmake c++ npm; do
	command -v "$tool" >/dev/null || { echo "build-llama-tools.sh: $tool is required (apt-get install git cmake g++ npm)" >&2; exit 1; }
done

mkdir -p "$root"
src="$root/src"
if [[ ! -f "$src/CMakeLists.txt" ]]; then
	tmp="$(mktemp -d)"
	trap 'rm -rf "$tmp"' EXIT
	echo "fetching $pkg (for its llama.cpp source bundle) ..."
	(cd "$tmp" && npm pack --silent "$pkg" >/dev/null)
	tar -xzf "$tmp"/*.tgz -C "$tmp" package/llama/gitRelease.bundle
	rm -rf "$src"
	git clone --quiet "$tmp/package/llama/gitRelease.bundle" "$src"
fi

echo "building ${missing[*]} (llama.cpp from $pkg) in $root ..."
cmake -S "$src" -B "$root/build" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF \
	-DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DGGML_NATIVE=ON >/dev/null
cmake --build "$root/build" -j"$(nproc)" --target "${missing[@]}"
mkdir -p "$root/bin"
for t in "${missing[@]}"; do
	cp -f "$root/build/bin/$t" "$root/bin/$t"
done
echo "built ${missing[*]} into $root/bin"
