#!/bin/sh
# The wheel in a Debian root that has never seen Swift: debootstrap a minimal bookworm
# (python3, venv, numpy), install the wheel into a fresh venv inside it with pip (no
# network, no Swift), and run an embedding-bag lookup and a Loader epoch there.
#   python/tests/wheel-in-root.sh WHEEL [ROOT]      (root; ROOT defaults to .build-wheelroot)
# Minutes on a first run (debootstrap); the root is kept and reused.
set -eu
wheel=$(readlink -f "$1")
root=${2:-$(dirname "$0")/../../.build-wheelroot}
command -v debootstrap >/dev/null || apt-get install -y -q debootstrap >/dev/null
if [ ! -x "$root/usr/bin/python3" ]; then
    debootstrap --variant=minbase --include=python3,python3-venv,python3-numpy bookworm "$root" http://deb.debian.org/debian
fi
if [ -e "$root/usr/bin/swift" ] || ls "$root"/usr/lib/swift* >/dev/null 2>&1; then
    echo "the root has Swift in it; it must not" >&2; exit 1
fi
mkdir -p "$root/tmp/wheel" && cp "$wheel" "$root/tmp/wheel/"
name=$(basename "$wheel")
cat > "$root/tmp/wheel/check.py" <<'PY'
import numpy as np, os, hostmem, tempfile
print("hostmem", hostmem.version(), "from", hostmem.library_path)
table = np.arange(12, dtype=np.float32).reshape(4, 3)
assert hostmem.EmbeddingBag(table)(np.array([1, 3]), np.array([0])).tolist() == [[12.0, 14.0, 16.0]]
path = os.path.join(tempfile.mkdtemp(), "x.npy")
np.save(path, np.arange(1000, dtype=np.float32).reshape(250, 4))
seen = sorted(int(row[0]) // 4 for x in hostmem.Loader(path, batch_size=32, rank=0, world_size=1) for row in x)
assert seen == list(range(250)), seen[:10]
print("a lookup and a Loader epoch ran")
PY
chroot "$root" /bin/sh -c "rm -rf /tmp/venv && python3 -m venv --system-site-packages /tmp/venv \
    && /tmp/venv/bin/pip install -q --no-index --no-deps /tmp/wheel/$name && /tmp/venv/bin/python /tmp/wheel/check.py"
