"""(d) Random 512-byte rows of a cold memory-mapped file: every fault reads a whole
readahead window. The file is dropped from the page cache first (fsync, then
posix_fadvise DONTNEED).

    python3 readahead.py SECONDS            # create the file if needed, then read
    python3 readahead.py 0 --prepare-only   # only create it (tests do this first, so
                                            # the sampled window is all reading)
The file is $HOSTMEM_WORKLOAD_DIR/rows.bin (a temporary folder when unset); it must be on
a disk, not tmpfs, for reads to reach storage."""
import mmap
import os
import random
import sys
import tempfile
from common import remaining

SIZE = 512 << 20
ROW = 512

if __name__ == "__main__":
    folder = os.environ.get("HOSTMEM_WORKLOAD_DIR") or tempfile.mkdtemp(prefix="hostmem-readahead-")
    path = os.path.join(folder, "rows.bin")
    if not os.path.exists(path) or os.path.getsize(path) != SIZE:
        chunk = os.urandom(1 << 20)
        with open(path + ".tmp", "wb") as f:
            for _ in range(SIZE >> 20):
                f.write(chunk)
            f.flush()
            os.fsync(f.fileno())
        os.replace(path + ".tmp", path)
    if "--prepare-only" in sys.argv:
        sys.exit(0)
    fd = os.open(path, os.O_RDONLY)
    os.fsync(fd)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    data = mmap.mmap(fd, SIZE, prot=mmap.PROT_READ)
    rng = random.Random(os.getpid())
    rows = SIZE // ROW
    total = 0
    while remaining() > 0:
        for _ in range(256):  # one "batch" of random rows
            start = rng.randrange(rows) * ROW
            total += data[start]
    data.close()
    os.close(fd)
