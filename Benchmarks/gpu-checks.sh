#!/bin/sh
# Every GPU check of the open issues, in one run on a machine with an NVIDIA GPU, torch
# with CUDA and numpy (the `device` tool's machine, which has no Swift): build here with
#   swift build -c release --static-swift-stdlib --product hostmem && swift build -c release --product hostmem_c \
#     && mkdir -p .device && strip -o .device/hostmem .build/release/hostmem && gzip -f .device/hostmem \
#     && cp .build/release/libhostmem_c.so .device/
# then, with `.device` carried: sh Benchmarks/gpu-checks.sh
# 1. The doctor on a GPU loop starved by its one worker: the GPU's utilization over the
#    window from NVML's samples, and workers-saturated as a warning with that figure.
# 2. The loader into the GPU (Benchmarks/gpu-loader.py).
set -u
HERE=$(dirname "$0")
OUT=${OUT:-/tmp}
if [ -f .device/hostmem.gz ]; then gunzip -c .device/hostmem.gz > /tmp/hostmem && chmod +x /tmp/hostmem; fi
HOSTMEM=${HOSTMEM:-/tmp/hostmem}
nvidia-smi --query-gpu=index,name,pci.bus_id,utilization.gpu --format=csv || true
echo "== 1. doctor on a starved GPU loop (1 worker), sampled 15 s after start for 10 s"
"$HOSTMEM" doctor --no-calibration --warmup 15 --seconds 10 -- python3 "$HERE/torch_gpu_starved.py" 30 1 | tee "$OUT/doctor-gpu.txt"
"$HOSTMEM" doctor --no-calibration --json --warmup 15 --seconds 10 -- python3 "$HERE/torch_gpu_starved.py" 30 1 > "$OUT/doctor-gpu.json"
python3 - "$OUT/doctor-gpu.json" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
print("gpus:", report.get("gpus"))
for finding in report.get("findings", []):
    print(finding["id"], finding["severity"], [(e["metric"], round(e["value"], 1) if isinstance(e["value"], float) else e["value"]) for e in finding["evidence"]])
PY
echo "== 2. the loader into the GPU"
[ -f .device/libhostmem_c.so ] && export HOSTMEM_LIB="$PWD/.device/libhostmem_c.so"
python3 "$HERE/gpu-loader.py" --seconds 3 --rounds 3 2>&1 | tee "$OUT/gpu-loader.txt"
