#!/bin/sh
# The doctor on a real PyTorch job (torch_list_dataset.py: a Dataset holding a Python
# list of tuples, 2 forked workers), sampled 20 s after start: once as it is, once in a
# child cgroup with a CPU quota of half a CPU that this script creates and removes.
# Usage: Benchmarks/doctor-container.sh PYTHON_WITH_TORCH [HOSTMEM]
# Needs root and a writable cgroup v1 cpu controller or a cgroup2 folder delegating cpu.
set -eu
PYTHON=${1:?"usage: $0 PYTHON_WITH_TORCH [HOSTMEM]"}
HOSTMEM=${2:-.build/release/hostmem}
HERE=$(dirname "$0")
JOB="$HERE/torch_list_dataset.py"

echo "== 1. as it is: sampled 20 s after start for 10 s"
"$HOSTMEM" doctor --no-calibration --warmup 20 --seconds 10 -- "$PYTHON" "$JOB" 40 || true

CPU=$(awk '$3 == "cgroup" && $4 ~ /(^|,)cpu(,|$)/ { print $2; exit }' /proc/mounts)
if [ -n "$CPU" ] && [ -w "$CPU" ]; then
    CG="$CPU/hostmem-quota-$$"
    mkdir "$CG"
    echo 100000 > "$CG/cpu.cfs_period_us"
    echo 50000 > "$CG/cpu.cfs_quota_us"
else
    V2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
    if [ -z "$V2" ] || ! grep -qw cpu "$V2/cgroup.subtree_control" 2>/dev/null; then
        echo "no writable cpu controller: skipping the quota run" >&2
        exit 0
    fi
    CG="$V2/hostmem-quota-$$"
    mkdir "$CG"
    echo "50000 100000" > "$CG/cpu.max"
fi
trap 'sleep 1; rmdir "$CG" 2>/dev/null || true' EXIT

echo "== 2. in $CG with a quota of 0.5 CPU: sampled 20 s after start for 10 s"
"$HOSTMEM" doctor --no-calibration --warmup 20 --seconds 10 -- /bin/sh -c "echo \$\$ > $CG/cgroup.procs && exec $PYTHON $JOB 40" || true
