"""(d) Random 512-byte rows of a cold memory-mapped file: every fault reads a whole
readahead window. The file is dropped from the page cache first (fsync, then
posix_fadvise DONTNEED)."""
import mmap
import os
import random
import tempfile
from common import remaining

SIZE = 512 << 20
ROW = 512

if __name__ == "__main__":
    folder = os.environ.get("HOSTMEM_WORKLOAD_DIR") or tempfile.mkdtemp(prefix="hostmem-readahead-")
    path = os.path.join(folder, f"rows-{os.getpid()}.bin")
    chunk = os.urandom(1 << 20)
    with open(path, "wb") as f:
        for _ in range(SIZE >> 20):
            f.write(chunk)
        f.flush()
        os.fsync(f.fileno())
    fd = os.open(path, os.O_RDONLY)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    data = mmap.mmap(fd, SIZE, prot=mmap.PROT_READ)
    rng = random.Random(1)
    rows = SIZE // ROW
    total = 0
    while remaining() > 0:
        for _ in range(256):  # one "batch" of random rows
            start = rng.randrange(rows) * ROW
            total += data[start]
    data.close()
    os.close(fd)
    os.remove(path)
