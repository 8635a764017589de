#!/bin/sh
# Runs a command in a multi-node NUMA Linux guest and returns its exit status.
#
#   Tests/NUMAGuest/guest.sh [--nodes 2|4] -- COMMAND [ARGUMENTS...]
#
# QEMU with TCG (software emulation: `-accel kvm` stalls on the machines this was written
# on) boots Debian's stock kernel with an initramfs of busybox and the ten virtio/9p
# modules, mounts this machine's root read-only over 9p, mounts proc, sys, devtmpfs and
# tmpfs on /tmp and /dev/shm under it, and runs COMMAND there (in the current directory)
# as root. Timings in the guest are emulated and mean nothing; placement, policies, page
# counts and what the kernel reports are real.
#   --nodes 2: 2 sockets, 1 CPU and 1 GiB each, distance 21; a QEMU VGA on the PCI bus.
#   --nodes 4: 4 sockets, 1 CPU and 512 MiB each, an asymmetric distance table (10/16/22/28,
#              node 3 farthest), an NVMe drive on node 1 and a NIC on node 3 (pxb-pcie
#              buses with numa_node set), and the VGA.
# The kernel and initramfs are cached in .build-guest/ (first run: one download of
# Debian's linux-image package, ~70 MB). Needs qemu-system-x86 and busybox-static
# (installed with apt-get when missing and this runs as root).
set -eu
nodes=2
while [ $# -gt 0 ]; do
    case "$1" in
        --nodes) nodes=$2; shift 2 ;;
        --) shift; break ;;
        *) echo "usage: $0 [--nodes 2|4] -- COMMAND..." >&2; exit 2 ;;
    esac
done
[ $# -gt 0 ] || { echo "usage: $0 [--nodes 2|4] -- COMMAND..." >&2; exit 2; }
case "$nodes" in 2|4) ;; *) echo "--nodes is 2 or 4, not $nodes" >&2; exit 2 ;; esac
here=$(cd "$(dirname "$0")" && pwd)
checkout=$(cd "$here/../.." && pwd)
cache=${HOSTMEM_GUEST_CACHE:-$checkout/.build-guest}
mkdir -p "$cache"

need=""
command -v qemu-system-x86_64 >/dev/null || need="$need qemu-system-x86"
[ -x /bin/busybox ] || command -v busybox >/dev/null || need="$need busybox-static"
if [ -n "$need" ]; then
    [ "$(id -u)" = 0 ] || { echo "needs:$need (apt-get install as root)" >&2; exit 77; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null 2>&1 \
        || { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null; } \
        || { echo "could not install$need" >&2; exit 77; }
fi

# The kernel and its modules, from Debian's package (downloaded, unpacked, not installed).
if [ ! -f "$cache/vmlinuz" ]; then
    package=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
    [ -n "$package" ] || { echo "no linux-image-amd64 in the package lists (apt-get update?)" >&2; exit 77; }
    rm -rf "$cache/kernel" && mkdir -p "$cache/kernel"
    (cd "$cache/kernel" && apt-get download "$package" >/dev/null 2>&1 && dpkg-deb -x ./*.deb unpacked && rm -f ./*.deb) \
        || { echo "could not download $package" >&2; exit 77; }
    cp "$cache"/kernel/unpacked/boot/vmlinuz-* "$cache/vmlinuz.part" && mv "$cache/vmlinuz.part" "$cache/vmlinuz"
fi

# The initramfs: busybox, the modules that mount the host's root over 9p, and the init.
if [ ! -f "$cache/initrd.gz" ] || [ "$here/guest.sh" -nt "$cache/initrd.gz" ]; then
    staging="$cache/initrd"
    rm -rf "$staging" && mkdir -p "$staging/bin" "$staging/modules" "$staging/proc" "$staging/sys" "$staging/dev" "$staging/mnt"
    cp "$(command -v busybox)" "$staging/bin/busybox"
    for module in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci netfs fscache 9pnet 9pnet_virtio 9p; do
        found=$(find "$cache/kernel/unpacked/lib/modules" -name "$module.ko*" | head -1)
        [ -n "$found" ] || { echo "module $module is not in the kernel package" >&2; exit 77; }
        case "$found" in
            *.xz) xz -dc "$found" > "$staging/modules/$module.ko" ;;
            *.zst) zstd -qdc "$found" > "$staging/modules/$module.ko" ;;
            *) cp "$found" "$staging/modules/$module.ko" ;;
        esac
    done
    cat > "$staging/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sys /sys
/bin/busybox mount -t devtmpfs dev /dev
for module in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci netfs fscache 9pnet 9pnet_virtio 9p; do
    /bin/busybox insmod /modules/$module.ko || echo "insmod $module failed"
done
/bin/busybox mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose hostroot /mnt || echo "mount of the host root failed"
/bin/busybox mount -t proc proc /mnt/proc
/bin/busybox mount -t sysfs sys /mnt/sys
/bin/busybox mount -t devtmpfs dev /mnt/dev
job=$(/bin/busybox sed -n 's/.*hostmem.job=\([^ ]*\).*/\1/p' /proc/cmdline)
keep=$(/bin/busybox sed -n 's/.*hostmem.keep=\([^ ]*\).*/\1/p' /proc/cmdline)
# A checkout under /tmp stays visible through the guest's own /tmp: bound aside, then back.
case "$keep" in /tmp/*) /bin/busybox mkdir -p /keep && /bin/busybox mount -o bind "/mnt$keep" /keep ;; *) keep="" ;; esac
/bin/busybox mount -t tmpfs tmp /mnt/tmp
if [ -n "$keep" ]; then /bin/busybox mkdir -p "/mnt$keep" && /bin/busybox mount -o bind /keep "/mnt$keep"; fi
/bin/busybox mkdir -p /mnt/dev/shm && /bin/busybox mount -t tmpfs shm /mnt/dev/shm
echo; echo "hostmem-guest-begin"
/bin/busybox chroot /mnt /bin/sh "$job"
echo "hostmem-guest-status: $?"
/bin/busybox poweroff -f
INIT
    chmod +x "$staging/init"
    (cd "$staging" && find . | "$staging/bin/busybox" cpio -o -H newc 2>/dev/null | gzip -1) > "$cache/initrd.gz.part"
    mv "$cache/initrd.gz.part" "$cache/initrd.gz"
fi

# The command, as a script the guest runs from the read-only host root.
job=$(mktemp "$cache/job-XXXXXX.sh")
trap 'rm -f "$job"' EXIT INT TERM
{
    echo "cd '$(pwd)' || exit 125"
    printf 'export PATH=%s HOME=/tmp TMPDIR=/tmp HOSTMEM_IN_GUEST=1\n' "$PATH"
    printf 'exec'
    for word in "$@"; do printf " '%s'" "$(printf '%s' "$word" | sed "s/'/'\\\\''/g")"; done
    echo
} > "$job"

if [ "$nodes" = 2 ]; then
    machine="-M pc -smp 2,sockets=2,cores=1,threads=1 -m 2G
        -object memory-backend-ram,id=m0,size=1G -object memory-backend-ram,id=m1,size=1G
        -numa node,nodeid=0,cpus=0,memdev=m0 -numa node,nodeid=1,cpus=1,memdev=m1
        -numa dist,src=0,dst=1,val=21 -vga std -nic none"
    rootbus=pci.0
else
    machine="-M q35 -smp 4,sockets=4,cores=1,threads=1 -m 2G
        -object memory-backend-ram,id=m0,size=512M -object memory-backend-ram,id=m1,size=512M
        -object memory-backend-ram,id=m2,size=512M -object memory-backend-ram,id=m3,size=512M
        -numa node,nodeid=0,cpus=0,memdev=m0 -numa node,nodeid=1,cpus=1,memdev=m1
        -numa node,nodeid=2,cpus=2,memdev=m2 -numa node,nodeid=3,cpus=3,memdev=m3
        -numa dist,src=0,dst=1,val=16 -numa dist,src=0,dst=2,val=22 -numa dist,src=0,dst=3,val=28
        -numa dist,src=1,dst=2,val=16 -numa dist,src=1,dst=3,val=22 -numa dist,src=2,dst=3,val=16
        -device pxb-pcie,id=pcie.1,bus_nr=32,numa_node=1,bus=pcie.0 -device pcie-root-port,id=rp1,bus=pcie.1,chassis=1
        -drive file=$cache/nvme.img,if=none,id=nvm,format=raw -device nvme,serial=hostmem,drive=nvm,bus=rp1
        -device pxb-pcie,id=pcie.3,bus_nr=64,numa_node=3,bus=pcie.0 -device pcie-root-port,id=rp3,bus=pcie.3,chassis=3
        -device e1000e,netdev=n0,bus=rp3,romfile= -netdev user,id=n0 -nic none -vga std"
    rootbus=pcie.0
    [ -f "$cache/nvme.img" ] || truncate -s 64M "$cache/nvme.img"
fi
output=$(mktemp)
trap 'rm -f "$job" "$output"' EXIT INT TERM
# shellcheck disable=SC2086
timeout "${HOSTMEM_GUEST_TIMEOUT:-600}" qemu-system-x86_64 -accel tcg -cpu max $machine -nographic -no-reboot \
    -kernel "$cache/vmlinuz" -initrd "$cache/initrd.gz" \
    -append "console=ttyS0 quiet panic=-1 hostmem.job=$job hostmem.keep=$checkout" \
    -fsdev local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap \
    -device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot,bus=$rootbus > "$output" 2>&1 || true
# What the command printed, without the kernel's and QEMU's lines, then its status.
sed -e 's/\r$//' "$output" | awk '/^hostmem-guest-status: /{exit} printing {print} /hostmem-guest-begin$/{printing=1}' \
    | grep -v '^\[ *[0-9]*\.[0-9]*\]' || true
status=$(sed -e 's/\r$//' "$output" | awk '/^hostmem-guest-status: /{print $2}' | tail -1)
if [ -z "$status" ]; then
    echo "the guest ended without the command's status (see its console below)" >&2
    tail -30 "$output" >&2
    exit 124
fi
exit "$status"
