#!/usr/bin/env bash
# DRAM latency: hostmem's pointer chase vs a plain C pointer chase (pointer-chase.c) on
# the same buffer size, same CPU, runs interleaved. Prints each median and the ratio.
#
#   Benchmarks/compare-chase.sh [BYTES] [REPEATS]     (default 1 GiB, 5)
set -euo pipefail

bytes=${1:-1073741824}
repeats=${2:-5}
here=$(cd "$(dirname "$0")/.." && pwd)
hostmem=${HOSTMEM:-$here/.build/release/hostmem}
[ -x "$hostmem" ] || { echo "hostmem not built: run 'swift build -c release' in $here" >&2; exit 2; }
chase=$(mktemp -d)/pointer-chase
cc -O2 -o "$chase" "$here/Benchmarks/pointer-chase.c"

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
c_values=(); h_values=()
for _ in $(seq 1 "$repeats"); do
    c_values+=("$("$chase" "$bytes" 5 0 | awk '{print $6}')")
    h_values+=("$("$hostmem" bench latency --min "$bytes" --max "$bytes" --cpu 0 --json |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["latency"]["points"][-1]["nanoseconds"]["median"])')")
done
c=$(printf '%s\n' "${c_values[@]}" | median)
h=$(printf '%s\n' "${h_values[@]}" | median)
echo "working set $bytes bytes, CPU 0, $repeats interleaved runs, median of medians, ns per load"
printf "C pointer chase: %.2f ns   hostmem: %.2f ns   " "$c" "$h"; echo "hostmem / C: $(awk -v a="$h" -v b="$c" 'BEGIN {printf "%.3f", a / b}')"
