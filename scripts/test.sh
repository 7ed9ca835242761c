#!/usr/bin/env bash
# test.sh runs aligngate's whole test suite on a fresh machine: it installs
# what the tests need (redis-server from Debian, the llama.cpp libraries and
# the OpenAI Node SDK from npm), starts a Redis server on a free loopback
# port, and runs `go test -race ./...`. Tests that need a service fail, never
# skip, when CI=true.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

need_apt=()
command -v redis-server >/dev/null || need_apt+=(redis-server)
command -v node >/dev/null || need_apt+=(nodejs npm)
command -v chromium >/dev/null || need_apt+=(chromium)
# yzma binds llama.cpp through libffi.
ldconfig -p 2>/dev/null | grep 'libffi.so.8 ' >/dev/null || need_apt+=(libffi8)
# The real-model tests check corrections against a word list.
[[ -f /usr/share/dict/words ]] || need_apt+=(wamerican)
# llama.cpp's own tools are built from the release's source bundle.
for tool in git cmake g++; do command -v "$tool" >/dev/null || need_apt+=("$tool"); done
python3 -c 'import venv, ensurepip' 2>/dev/null || need_apt+=(python3-venv)
if ((${#need_apt[@]})); then
	echo "== installing ${need_apt[*]} from Debian"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

echo "== llama.cpp libraries"
bash scripts/install-llama.sh "$repo/.llama/lib"
export YZMA_LIB="$repo/.llama/lib"

echo "== demo model (SmolLM2-135M-Instruct)"
ALIGNGATE_MODEL="$(bash scripts/install-model.sh | tail -n 1)"
export ALIGNGATE_MODEL

echo "== llama.cpp's own tools (llama-tokenize)"
bash scripts/build-llama-tools.sh llama-tokenize
export LLAMA_TOOLS_BIN="${LLAMA_TOOLS_DIR:-$HOME/.cache/aligngate/llama-tools}/bin"

echo "== OpenAI Python SDK"
venv="$repo/test/python/.venv"
if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c 'import openai' 2>/dev/null; then
	python3 -m venv "$venv"
	"$venv/bin/python" -m pip install -q --disable-pip-version-check -r test/python/requirements.txt
fi
export ALIGNGATE_PYTHON="$venv/bin/python"

echo "== OpenAI Node SDK"
if [[ ! -d test/node/node_modules/openai ]]; then
	npm ci --prefix test/node --no-audit --no-fund --loglevel=error
fi

echo "== redis-server"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
	echo $((20000 + RANDOM % 20000)))
redis_dir="$(mktemp -d)"
redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no --dir "$redis_dir" --daemonize no >"$redis_dir/log" 2>&1 &
redis_pid=$!
trap 'kill $redis_pid 2>/dev/null; wait $redis_pid 2>/dev/null; rm -rf "$redis_dir"' EXIT
for _ in $(seq 50); do
	redis-cli -p "$port" ping >/dev/null 2>&1 && break
	sleep 0.1
done
redis-cli -p "$port" ping >/dev/null || { cat "$redis_dir/log"; echo "redis-server did not start" >&2; exit 1; }
export ALIGNGATE_REDIS_ADDR="127.0.0.1:$port"

echo "== go vet"
go vet ./...
echo "== go test -race ./..."
go test -race -count=1 -timeout 20m "$@" ./...
