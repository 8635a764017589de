"""A healthy job of the same shape: a main loop and two workers that build small
batches from numpy-free flat data and sleep between them; nothing crosses a threshold."""
import multiprocessing as mp
import time
from common import remaining

data = bytes(range(256)) * 4096  # 1 MiB, shared and never written


def worker():
    total = 0
    while remaining() > 0:
        for i in range(0, len(data), 4096):
            total += data[i]
        time.sleep(0.05)
    return total


if __name__ == "__main__":
    mp.set_start_method("fork")
    workers = [mp.Process(target=worker) for _ in range(2)]
    for w in workers:
        w.start()
    while remaining() > 0:
        sum(range(20000))
        time.sleep(0.05)
    for w in workers:
        w.join()
