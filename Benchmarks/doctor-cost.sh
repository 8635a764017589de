#!/bin/sh
# What the doctor costs: its own CPU time (user + system, /usr/bin/time) for one window of
# SECONDS on a running job, REPEAT times, as a share of one CPU over the wall time.
# Usage: Benchmarks/doctor-cost.sh SECONDS REPEAT WARMUP -- JOB…   (HOSTMEM=… to choose the binary)
set -eu
SECONDS_=${1:?usage}; REPEAT=${2:?usage}; WARMUP=${3:?usage}; shift 3
[ "${1:-}" = "--" ] && shift
HOSTMEM=${HOSTMEM:-.build/release/hostmem}
"$@" > /dev/null 2>&1 &
JOB=$!
trap 'kill $JOB 2>/dev/null || true' EXIT
sleep "$WARMUP"
echo "job: $* (PID $JOB, $(ls /proc/$JOB/task | wc -l) threads in the main process, $(pgrep -P $JOB | wc -l) children)"
i=0
while [ $i -lt "$REPEAT" ]; do
    /usr/bin/time -f "%U %S %e" "$HOSTMEM" doctor --pid $JOB --seconds "$SECONDS_" --no-python-stacks --no-calibration \
        2>&1 >/dev/null | tail -1 | awk '{ printf "window %d: user %.2f s + system %.2f s over %.2f s wall = %.2f%% of one CPU\n", '$i' + 1, $1, $2, $3, ($1 + $2) / $3 * 100 }'
    i=$((i + 1))
done
