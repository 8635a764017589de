"""(c) A worker maps a dataset file MAP_PRIVATE and writes into it (augmenting in place)."""
import mmap
import multiprocessing as mp
import os
import sys
import tempfile
import time
from common import remaining

SIZE = 64 << 20


def worker(path):
    with open(path, "r+b") as f:
        data = mmap.mmap(f.fileno(), SIZE, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ | mmap.PROT_WRITE)
        for offset in range(0, 24 << 20, 4096):  # "normalize" 24 MiB of samples in place
            data[offset] = (data[offset] + 1) % 256
        while remaining() > 0:
            time.sleep(0.1)


if __name__ == "__main__":
    mp.set_start_method("fork")
    folder = tempfile.mkdtemp(prefix="hostmem-memmap-")
    path = os.path.join(folder, "dataset.bin")
    with open(path, "wb") as f:
        f.write(b"\1" * SIZE)
    w = mp.Process(target=worker, args=(path,))
    w.start()
    while remaining() > 0:
        time.sleep(0.2)
    w.join()
    os.remove(path)
    os.rmdir(folder)
