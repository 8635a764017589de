#!/usr/bin/env bash
# Sequential read and triad bandwidth: hostmem vs likwid-bench, same working set, same
# thread count, runs interleaved in one session. Prints each side's median and the ratio.
#
#   Benchmarks/compare-likwid.sh [ARRAY_MB] [REPEATS]
#
# ARRAY_MB (default 128, i.e. 128 000 000 bytes): the size of each array; the read kernel
# uses one array, triad three (likwid's -w size is the total of all arrays, so triad gets
# 3 × ARRAY_MB). Needs likwid (Debian: apt-get install likwid) and a release build of
# hostmem (swift build -c release). likwid-bench prints MByte/s with MByte = 10^6 bytes;
# hostmem prints GB/s with GB = 10^9 bytes.
set -euo pipefail

array_mb=${1:-128}
repeats=${2:-5}
here=$(cd "$(dirname "$0")/.." && pwd)
hostmem=${HOSTMEM:-$here/.build/release/hostmem}

if ! command -v likwid-bench >/dev/null; then
    echo "likwid-bench not found: install it with 'apt-get install likwid'" >&2
    exit 2
fi
if [ ! -x "$hostmem" ]; then
    echo "hostmem not built: run 'swift build -c release' in $here" >&2
    exit 2
fi

# The widest load and stream kernels likwid has that this CPU runs.
flags=$(grep -m1 '^flags' /proc/cpuinfo)
if [[ $flags == *avx512f* ]]; then isa=avx512; elif [[ $flags == *avx2* ]]; then isa=avx; else isa=sse; fi
threads_max=$(nproc)
bytes=$((array_mb * 1000000))

likwid_rate() {  # kernel, total MB, threads -> GB/s
    likwid-bench -t "$1" -w "S0:${2}MB:$3" 2>/dev/null | awk '/MByte\/s/ {print $2 / 1000}'
}

hostmem_rate() {  # threads -> "read triad" GB/s medians
    "$hostmem" bench bandwidth --size "$bytes" --threads "$1" --no-in-cache --json |
        python3 -c 'import json,sys; r=json.load(sys.stdin)["bandwidth"]["rows"][0]; print(r["read"]["median"], r["triad"]["median"])'
}

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

echo "read: likwid load_$isa vs hostmem read; triad: likwid stream_$isa vs hostmem triad"
echo "(also likwid stream_mem_$isa, which uses non-temporal stores and so skips the write-allocate read"
echo " that hostmem's plain stores pay: the ratio against it is shown last, for information)"
echo "array ${array_mb} MB (triad: 3 arrays), ${repeats} interleaved runs each, medians in GB/s"
printf '%-8s %-12s %-8s %-6s %-13s %-8s %-6s %-11s %-6s\n' threads likwid-read hostmem ratio likwid-triad hostmem ratio likwid-mem ratio
for threads in $(seq 1 "$threads_max"); do
    : >/tmp/hm-lr; : >/tmp/hm-lt; : >/tmp/hm-lm; : >/tmp/hm-hr; : >/tmp/hm-ht
    for _ in $(seq 1 "$repeats"); do
        likwid_rate "load_$isa" "$array_mb" "$threads" >>/tmp/hm-lr
        likwid_rate "stream_$isa" $((3 * array_mb)) "$threads" >>/tmp/hm-lt
        likwid_rate "stream_mem_$isa" $((3 * array_mb)) "$threads" >>/tmp/hm-lm
        read -r r t < <(hostmem_rate "$threads")
        echo "$r" >>/tmp/hm-hr
        echo "$t" >>/tmp/hm-ht
    done
    lr=$(median </tmp/hm-lr); lt=$(median </tmp/hm-lt); lm=$(median </tmp/hm-lm)
    hr=$(median </tmp/hm-hr); ht=$(median </tmp/hm-ht)
    ratio() { awk -v a="$1" -v b="$2" 'BEGIN {print a / b}'; }
    printf '%-8s %-12.2f %-8.2f %-6.2f %-13.2f %-8.2f %-6.2f %-11.2f %-6.2f\n' "$threads" "$lr" "$hr" "$(ratio "$hr" "$lr")" \
        "$lt" "$ht" "$(ratio "$ht" "$lt")" "$lm" "$(ratio "$ht" "$lm")"
done
rm -f /tmp/hm-lr /tmp/hm-lt /tmp/hm-lm /tmp/hm-hr /tmp/hm-ht
