"""A thread pool inside each worker, as OpenMP/MKL/OpenBLAS or OpenCV start one: three
threads per worker hashing large buffers (hashlib releases the GIL for them)."""
import hashlib
import threading
from common import remaining, run_forked_workers

BLOCK = bytes(1 << 20)


def spin():
    while remaining() > 0:
        hashlib.sha256(BLOCK).digest()


def worker():
    threads = [threading.Thread(target=spin) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


if __name__ == "__main__":
    run_forked_workers(worker)
