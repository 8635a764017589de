#!/usr/bin/env bash
# Builds hostmem's container image from deploy/image/Containerfile:
#   1. `swift build -c release --static-swift-stdlib` (scratch .build-static), stripped;
#   2. a root of that binary, the C libraries it loads (as ldd resolves them, with the
#      dynamic loader), /etc/passwd and /etc/group naming root and nobody, a writable
#      /tmp and the calibration cache folder owned by nobody;
#   3. `podman build` (or docker, or buildah: the first found, or $CONTAINER_TOOL).
#
#   bash deploy/image/build.sh [--tag NAME] [--binary PATH]
#     --tag     the image's name (default localhost/hostmem:VERSION, VERSION from `hostmem --version`)
#     --binary  put this hostmem binary in instead of building one
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
checkout=$(cd "$here/../.." && pwd)
tag="" binary=""
while [ $# -gt 0 ]; do
    case "$1" in
        --tag) tag=$2; shift 2 ;;
        --binary) binary=$2; shift 2 ;;
        *) echo "usage: $0 [--tag NAME] [--binary PATH]" >&2; exit 2 ;;
    esac
done
tool=${CONTAINER_TOOL:-$(command -v podman || command -v docker || command -v buildah || true)}
[ -n "$tool" ] || { echo "no podman, docker or buildah to build the image with" >&2; exit 2; }

context="$checkout/.build-image"
rm -rf "$context" && mkdir -p "$context/rootfs/usr/local/bin" "$context/rootfs/etc" "$context/rootfs/tmp" "$context/rootfs/var/cache/hostmem"
if [ -z "$binary" ]; then
    echo "== swift build -c release --static-swift-stdlib (scratch .build-static)" >&2
    (cd "$checkout" && swift build -c release --static-swift-stdlib --scratch-path .build-static --product hostmem >&2)
    binary="$checkout/.build-static/release/hostmem"
fi
strip -o "$context/rootfs/usr/local/bin/hostmem" "$binary"
# The libraries it loads, where the loader will look for them, and the loader itself.
ldd "$context/rootfs/usr/local/bin/hostmem" | awk '/=> \// {print $3} /^\t\// {print $1}' | while read -r library; do
    mkdir -p "$context/rootfs$(dirname "$library")"
    cp -L "$library" "$context/rootfs$library"
done
# Merged /usr: /lib and /lib64 are links, as on the host the libraries came from.
for link in lib lib64; do
    if [ -L "/$link" ] && [ ! -e "$context/rootfs/$link" ]; then ln -s "$(readlink "/$link")" "$context/rootfs/$link"; fi
done
printf 'root:x:0:0:root:/root:/usr/local/bin/hostmem\nnobody:x:65534:65534:nobody:/var/cache/hostmem:/usr/local/bin/hostmem\n' > "$context/rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$context/rootfs/etc/group"
chmod 1777 "$context/rootfs/tmp"
chown 65534:65534 "$context/rootfs/var/cache/hostmem"
cp "$here/Containerfile" "$context/Containerfile"
version=$("$context/rootfs/usr/local/bin/hostmem" --version)
tag=${tag:-localhost/hostmem:$version}
echo "== $(basename "$tool") build -t $tag ($(du -sh "$context/rootfs" | cut -f1) root)" >&2
"$tool" build -q -t "$tag" -f "$context/Containerfile" "$context" >&2
echo "$tag"
