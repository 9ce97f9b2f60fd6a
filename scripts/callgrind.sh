#!/usr/bin/env bash
# Instruction counts of every bench case under valgrind's callgrind: deterministic figures for
# regression tracking (the rdtsc figures of `cargo bench` move with the machine and its load).
#
# For each case the bench binary runs `--callgrind <case> K` (exactly K iterations of that one
# case after its setup) for two values of K; the difference of the two totals divided by the
# difference of K is the cost of one iteration, with process start-up, setup and the warm-up
# call cancelled out. Output, one line per case, in the format of `cargo bench`:
#
#   bench <case> instructions=<n> <per>=<value> [bytes_on_wire=<n>]
#
# Usage: scripts/callgrind.sh [filter]     (filter: substring of case names, as for cargo bench)
# Environment: JOBS (parallel valgrind runs, default: number of CPUs), K1/K2 (default 1000/2000).
set -euo pipefail

cd "$(dirname "$0")/.."
filter="${1:-}"
k1="${K1:-1000}"
k2="${K2:-2000}"
jobs="${JOBS:-$(nproc 2>/dev/null || echo 2)}"

command -v valgrind >/dev/null || { echo "valgrind not found" >&2; exit 1; }

# Build the bench exactly as `cargo bench` does and find its executable.
bin="$(cargo bench --bench hot_paths --no-run 2>&1 \
    | sed -n 's/.*Executable .*(\(.*hot_paths-[0-9a-f]*\)).*/\1/p' | tail -n 1)"
[ -x "$bin" ] || { echo "could not find the hot_paths bench executable" >&2; exit 1; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

"$bin" --list ${filter:+"$filter"} >"$tmp/list"

# Total instructions (Ir) of one run of `case` for `k` iterations.
count() {
    local case="$1" k="$2" log
    log="$(valgrind --tool=callgrind --callgrind-out-file=/dev/null \
        "$bin" --callgrind "$case" "$k" 2>&1 >/dev/null)" || { echo "$log" >&2; return 1; }
    echo "$log" | sed -n 's/^==[0-9]*== Collected : \([0-9]*\)$/\1/p'
}
export -f count
export bin

# One line per (case, k) job, run in parallel; results collected per case.
awk -v k1="$k1" -v k2="$k2" '{ print $1, k1; print $1, k2 }' "$tmp/list" \
    | xargs -P "$jobs" -n 2 bash -c 'echo "$0 $1 $(count "$0" "$1")"' >"$tmp/counts"

# Join with the case list, in list order.
awk -v k1="$k1" -v k2="$k2" '
    NR == FNR { ir[$1 " " $2] = $3; next }
    {
        a = ir[$1 " " k1]; b = ir[$1 " " k2]
        if (a == "" || b == "") { printf "bench %s instructions=? (run failed)\n", $1; next }
        per_iter = (b - a) / (k2 - k1)
        inst = (per_iter == int(per_iter)) ? sprintf("%d", per_iter) : sprintf("%.1f", per_iter)
        line = sprintf("bench %s instructions=%s %s=%.1f", $1, inst, $2, per_iter / $3)
        if ($4 != "-") line = line " bytes_on_wire=" $4
        print line
    }' "$tmp/counts" "$tmp/list"
