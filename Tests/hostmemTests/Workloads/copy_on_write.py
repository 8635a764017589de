"""(b) Forked workers read a parent's large list of Python objects, chunk by chunk:
every object touched gets its refcount written, so each worker copies the pages."""
import multiprocessing as mp
import time
from common import remaining

ROWS = 1_500_000
dataset = [(i, float(i), str(i)) for i in range(ROWS)]  # ~250 MB of Python objects


def worker():
    total = 0
    step = ROWS // 40
    position = 0
    while remaining() > 0:
        for row in dataset[position:position + step]:  # reading an object writes its refcount
            total += row[0]
        position = (position + step) % ROWS
        time.sleep(0.1)
    return total


if __name__ == "__main__":
    mp.set_start_method("fork")
    workers = [mp.Process(target=worker) for _ in range(2)]
    for w in workers:
        w.start()
    while remaining() > 0:
        time.sleep(0.2)
    for w in workers:
        w.join()
