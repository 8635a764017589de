"""Copy-on-write at steady state: forked workers read the parent's list of Python
objects once (each read writes a refcount, so each worker copies the pages), then keep
their copies without growing, as after a DataLoader's first epoch."""
import time
from common import remaining, run_forked_workers

ROWS = 800_000
dataset = [(i, float(i), str(i)) for i in range(ROWS)]  # ~130 MB of Python objects


def worker():
    total = sum(row[0] for row in dataset)  # one pass: every page of the list gets copied
    while remaining() > 0:
        time.sleep(0.1)  # the copies stay, flat
    return total


if __name__ == "__main__":
    run_forked_workers(worker)
