"""A healthy job of the same shape: a main loop and two workers that build small
batches from numpy-free flat data and sleep between them; nothing crosses a threshold."""
import time
from common import remaining, run_forked_workers

data = bytes(range(256)) * 4096  # 1 MiB, shared and never written


def worker():
    total = 0
    while remaining() > 0:
        for i in range(0, len(data), 4096):
            total += data[i]
        time.sleep(0.05)
    return total


if __name__ == "__main__":
    run_forked_workers(worker, between=lambda: sum(range(20000)))
