#!/bin/sh
# Run in the NUMA guest, in a private mount namespace (unshare -m): puts the PCI view of an
# 8-GPU server over /sys/bus/pci/devices, then runs COMMAND. The layout is NVIDIA DGX
# H100's as `nvidia-smi topo -m` and lspci show it: H100 SXM5 (10de:2330) at buses
# 1b, 43, 52, 61 on NUMA node 0 and 9d, c3, d1, df on node 1. The GPUs' node numbers are
# real nodes of the guest's kernel, so binding to a GPU binds CPUs and pages for real.
#
#   unshare -m sh Tests/NUMAGuest/gpu_server.sh COMMAND [ARGUMENTS...]
set -eu
devices=/sys/bus/pci/devices
mount -t tmpfs gpus "$devices"
gpu() {  # ADDRESS NODE
    folder="$devices/$1"
    mkdir -p "$folder"
    echo 0x030200 > "$folder/class"
    echo 0x10de > "$folder/vendor"
    echo 0x2330 > "$folder/device"
    echo "$2" > "$folder/numa_node"
    cat "/sys/devices/system/node/node$2/cpulist" > "$folder/local_cpulist"
}
for bus in 1b 43 52 61; do gpu "0000:$bus:00.0" 0; done
for bus in 9d c3 d1 df; do gpu "0000:$bus:00.0" 1; done
exec "$@"
