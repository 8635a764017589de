"""A thread pool inside each worker, as OpenMP/MKL/OpenBLAS or OpenCV start one: three
threads per worker hashing large buffers (hashlib releases the GIL for them)."""
import hashlib
import multiprocessing as mp
import threading
import time
from common import remaining

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
    mp.set_start_method("fork")
    workers = [mp.Process(target=worker) for _ in range(2)]
    for w in workers:
        w.start()
    while remaining() > 0:
        time.sleep(0.2)
    for w in workers:
        w.join()
