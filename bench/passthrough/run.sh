#!/usr/bin/env bash
# run.sh builds the passthrough benchmark's processes, starts them on free
# loopback ports, measures direct (the mock), the floor
# (httputil.ReverseProxy) and aligngate in interleaved rounds, prints a
# Markdown table and stops everything.
#
# Usage: bench/passthrough/run.sh [loadgen flags...]
#   e.g. bench/passthrough/run.sh -n 2000 -c 64 -d 2s -rounds 3
#
# Environment:
#   OUT=bench/out   where binaries, logs and the report (passthrough.md) go
#   CHUNKS=20       content deltas per streamed mock answer
#   PIN=0           1: pin with taskset, mock and load generator on CPU 0,
#                   floor and aligngate on CPU 1 (see bench/RESULTS.md)
#   NO_ALIGNGATE=0  1: measure only direct and floor
#   BEFORE=REV      also build aligngate at git revision REV and measure it
#                   as target "before" in the same interleaved run (a
#                   before/after comparison in one sitting)
set -euo pipefail

cd "$(dirname "$0")/../.."
OUT=${OUT:-bench/out}
CHUNKS=${CHUNKS:-20}
PIN=${PIN:-0}
NO_ALIGNGATE=${NO_ALIGNGATE:-0}
BEFORE=${BEFORE:-}
mkdir -p "$OUT"

go build -o "$OUT/" ./bench/passthrough/cmd/mock ./bench/passthrough/cmd/floor ./bench/passthrough/cmd/loadgen
if [[ $NO_ALIGNGATE != 1 ]]; then
	go build -o "$OUT/aligngate" ./cmd/aligngate
fi
if [[ -n $BEFORE ]]; then
	before_tree="$(mktemp -d)"
	git worktree add --quiet --detach "$before_tree" "$BEFORE"
	out_abs="$(cd "$OUT" && pwd)"
	(cd "$before_tree" && go build -o "$out_abs/aligngate-before" ./cmd/aligngate)
	git worktree remove --force "$before_tree"
fi

mapfile -t ports < <("$OUT/loadgen" -free-ports 4)
mock_port=${ports[0]} floor_port=${ports[1]} ag_port=${ports[2]} before_port=${ports[3]}

pids=()
cleanup() {
	local rc=$?
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	if [[ $rc != 0 ]]; then
		for log in "$OUT"/{mock,floor,aligngate}.log; do
			[[ -s $log ]] && { echo "--- $log" && tail -n 20 "$log"; } >&2
		done
	fi
	return "$rc"
}
trap cleanup EXIT

# Command prefixes pinning to CPU 0 or 1 when PIN=1. Background jobs are
# simple commands so that $! is the process itself and cleanup reaches it.
cpu0=() cpu1=()
if [[ $PIN == 1 ]]; then
	cpu0=(taskset -c 0) cpu1=(taskset -c 1)
fi

"${cpu0[@]}" "$OUT/mock" -listen "127.0.0.1:$mock_port" -chunks "$CHUNKS" 2>"$OUT/mock.log" &
pids+=($!)
"${cpu1[@]}" "$OUT/floor" -listen "127.0.0.1:$floor_port" -upstream "http://127.0.0.1:$mock_port" 2>"$OUT/floor.log" &
pids+=($!)
targets=(-target "direct=http://127.0.0.1:$mock_port/v1" -target "floor=http://127.0.0.1:$floor_port/v1")
if [[ $NO_ALIGNGATE != 1 ]]; then
	# At its default settings, the default log level included: one JSON line
	# per request, as users run it.
	"${cpu1[@]}" "$OUT/aligngate" serve \
		--upstream "http://127.0.0.1:$mock_port/v1" --listen "127.0.0.1:$ag_port" 2>"$OUT/aligngate.log" &
	pids+=($!)
	targets+=(-target "aligngate=http://127.0.0.1:$ag_port/v1")
fi
if [[ -n $BEFORE ]]; then
	"${cpu1[@]}" "$OUT/aligngate-before" serve \
		--upstream "http://127.0.0.1:$mock_port/v1" --listen "127.0.0.1:$before_port" 2>"$OUT/aligngate-before.log" &
	pids+=($!)
	targets+=(-target "before=http://127.0.0.1:$before_port/v1")
fi

{
	echo "Run $(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo '+dirty'), $(go env GOVERSION)," \
		"$(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), PIN=$PIN, CHUNKS=$CHUNKS."
	echo
	echo "Command: \`${BEFORE:+BEFORE=$BEFORE }bench/passthrough/run.sh $*\`"
	echo
	echo "Load average before: $(cut -d' ' -f1-3 /proc/loadavg)."
	echo
	"${cpu0[@]}" "$OUT/loadgen" "${targets[@]}" "$@"
	echo
	echo "Load average after: $(cut -d' ' -f1-3 /proc/loadavg)."
} | tee "$OUT/passthrough.md"
