"""(b) Forked workers read a parent's large list of Python objects, chunk by chunk:
every object touched gets its refcount written, so each worker copies the pages."""
import time
from common import remaining, run_forked_workers

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
    run_forked_workers(worker)
