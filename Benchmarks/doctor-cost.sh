#!/bin/sh
# What the doctor costs: its own CPU time (user + system, from wait4's rusage, in µs) for
# one window of SECONDS on a running job, REPEAT times, as a share of one CPU over the
# wall time, and whether the window's end walked the job's memory again.
# Usage: Benchmarks/doctor-cost.sh SECONDS REPEAT WARMUP -- JOB…   (HOSTMEM=… to choose the binary)
# WATCH=1: instead, one `doctor --watch` of REPEAT windows of SECONDS (stopped with SIGINT
# after them): the cost of watching, start-up included once.
# BEFORE=OTHER_BINARY: each window runs that binary, then HOSTMEM, on the same job (an
# A/B in one run: this shared VM's speed drifts by tens of percent within an hour).
# DOCTOR_OPTIONS="…": more doctor options for every run (e.g. --python-stacks, which runs
# py-spy when it is on PATH; without it the doctor's defaults are measured).
set -eu
SECONDS_=${1:?usage}; REPEAT=${2:?usage}; WARMUP=${3:?usage}; shift 3
[ "${1:-}" = "--" ] && shift
HOSTMEM=${HOSTMEM:-.build/release/hostmem}
"$@" > /dev/null 2>&1 &
JOB=$!
trap 'kill $JOB 2>/dev/null || true' EXIT
sleep "$WARMUP"
echo "job: $* (PID $JOB, $(ls /proc/$JOB/task | wc -l) threads in the main process, $(pgrep -P $JOB | wc -l) children)"
if [ "${WATCH:-0}" = 1 ]; then
    python3 - "$HOSTMEM" "$JOB" "$SECONDS_" "$REPEAT" <<'PY'
import json, os, signal, subprocess, sys, time
binary, job, window, windows = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
start = time.monotonic()
child = subprocess.Popen([binary, "doctor", "--pid", job, "--watch", "--interval", str(window), "--no-calibration", "--json"] + os.environ.get("DOCTOR_OPTIONS", "").split(),
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
time.sleep(window * windows + 1)
child.send_signal(signal.SIGINT)
reports = [r for r in (json.loads(line) for line in child.stdout.read().splitlines() if line.startswith("{")) if r.get("job")]
_, _, usage = os.wait4(child.pid, 0)
wall = time.monotonic() - start
jobs = [r.get("job") or {} for r in reports]
carried = sum("memoryCarriedChangeBound" in j for j in jobs)
print(f"watch, {len(reports)} windows of {window:g} s: user {usage.ru_utime:.3f} s + system {usage.ru_stime:.3f} s over {wall:.1f} s wall = "
      f"{(usage.ru_utime + usage.ru_stime) / wall * 100:.2f}% of one CPU ({carried} ends carried their first walk; the last window is cut short by the stop)")
PY
    exit 0
fi
i=0
while [ $i -lt "$REPEAT" ]; do
    i=$((i + 1))
    for BINARY in ${BEFORE:-} "$HOSTMEM"; do
    python3 - "$i ($BINARY)" "$BINARY" doctor --pid $JOB --seconds "$SECONDS_" --no-calibration ${DOCTOR_OPTIONS:-} <<'PY'
import os, subprocess, sys, time
window, command = sys.argv[1], sys.argv[2:]
start = time.monotonic()
child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
output = child.stdout.read()
_, _, usage = os.wait4(child.pid, 0)
wall = time.monotonic() - start
end = ("carried its first walk" if "was not walked again" in output
       else "kept its first walk, over the walk budget" if "would pass --walk-budget" in output else "walked again")
print(f"window {window}: user {usage.ru_utime:.3f} s + system {usage.ru_stime:.3f} s over {wall:.2f} s wall = "
      f"{(usage.ru_utime + usage.ru_stime) / wall * 100:.2f}% of one CPU (memory at the end: {end})")
PY
    done
done
