#!/usr/bin/env bash
# The binary for nodes without Swift: builds `hostmem` with the Swift runtime linked in
# statically, lists what it still needs, then runs it in a bare Debian root made with
# debootstrap (no Swift, no compiler): `hostmem topo`, and `hostmem serve` answering
# /metrics and stopping on SIGTERM. Needs root, debootstrap and a Debian mirror.
#
#   bash deploy/test-static-binary.sh [ROOTFS_DIR]     (default /tmp/hostmem-debian-root)
set -euo pipefail
cd "$(dirname "$0")/.."
rootfs=${1:-/tmp/hostmem-debian-root}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

command -v debootstrap >/dev/null || { echo "debootstrap not found (apt-get install debootstrap)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "needs root (debootstrap and chroot)" >&2; exit 2; }

echo "== build: swift build -c release --static-swift-stdlib (scratch .build-static)"
swift build -c release --static-swift-stdlib --scratch-path .build-static 2>&1 | tail -1
binary=.build-static/release/hostmem
strip -o /tmp/hostmem-static "$binary"
echo "size: $(du -h /tmp/hostmem-static | cut -f1) stripped ($(gzip -c /tmp/hostmem-static | wc -c | awk '{printf "%.1f MiB", $1/1048576}') gzipped)"
echo "needs: $(readelf -d /tmp/hostmem-static | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | tr '\n' ' ')"

if [ ! -x "$rootfs/bin/sh" ]; then
  echo "== debootstrap --variant=minbase bookworm $rootfs"
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >/tmp/hostmem-debootstrap.log 2>&1 \
    || { tail -5 /tmp/hostmem-debootstrap.log >&2; exit 1; }
fi
if chroot "$rootfs" sh -c 'command -v swift || ls /usr/lib/swift' >/dev/null 2>&1; then
  echo "the root has Swift: not a fair test" >&2; exit 1
fi
install -m 0755 /tmp/hostmem-static "$rootfs/usr/local/bin/hostmem"
mountpoint -q "$rootfs/proc" || mount -t proc proc "$rootfs/proc"
mountpoint -q "$rootfs/sys" || mount --rbind /sys "$rootfs/sys"
cleanup() {
  [ -n "${serve:-}" ] && kill "$serve" 2>/dev/null || true
  umount -R "$rootfs/sys" 2>/dev/null || umount -l "$rootfs/sys" || true
  umount "$rootfs/proc" 2>/dev/null || umount -l "$rootfs/proc" || true
}
trap cleanup EXIT

echo "== chroot: hostmem topo"
chroot "$rootfs" /usr/local/bin/hostmem topo | head -12

echo "== chroot: hostmem serve"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
chroot "$rootfs" /usr/local/bin/hostmem serve --listen "127.0.0.1:$port" --interval 2 --calibrate never 2>/tmp/hostmem-chroot-serve.log &
serve=$!
for _ in $(seq 50); do curl -sf "127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
curl -sf "127.0.0.1:$port/metrics" > /tmp/hostmem-chroot-metrics.txt
echo "/metrics: $(grep -c '^hostmem_' /tmp/hostmem-chroot-metrics.txt) samples, e.g.:"
grep -m3 '^hostmem_capability_info' /tmp/hostmem-chroot-metrics.txt
kill -TERM "$serve"
start=$(date +%s.%N)
wait "$serve"
status=$?
serve=
echo "serve exited with status $status $(echo "$(date +%s.%N) - $start" | bc) s after SIGTERM"
[ "$status" = 0 ] && echo "PASS: the static binary runs in a bare Debian root"
