#!/bin/sh
# What the doctor costs: its own CPU time (user + system, from wait4's rusage, in µs) for
# one window of SECONDS on a running job, REPEAT times, as a share of one CPU over the
# wall time, and whether the window's end walked the job's memory again.
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
    i=$((i + 1))
    python3 - "$i" "$HOSTMEM" doctor --pid $JOB --seconds "$SECONDS_" --no-python-stacks --no-calibration <<'PY'
import os, subprocess, sys, time
window, command = sys.argv[1], sys.argv[2:]
start = time.monotonic()
child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
output = child.stdout.read()
_, _, usage = os.wait4(child.pid, 0)
wall = time.monotonic() - start
end = "carried its first walk" if "was not walked again" in output else "walked again"
print(f"window {window}: user {usage.ru_utime:.3f} s + system {usage.ru_stime:.3f} s over {wall:.2f} s wall = "
      f"{(usage.ru_utime + usage.ru_stime) / wall * 100:.2f}% of one CPU (memory at the end: {end})")
PY
done
