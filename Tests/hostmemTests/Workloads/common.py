"""Shared by the planted-fault workloads: how long to run, and a clean exit."""
import sys
import time

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 6.0
START = time.monotonic()


def remaining():
    return SECONDS - (time.monotonic() - START)


def busy_until_done():
    """Burns CPU until the run time is over."""
    x = 0
    while remaining() > 0:
        for i in range(20000):
            x += i * i
    return x


def run_forked_workers(target, count=2, between=None):
    """Starts `count` forked workers running `target`, then runs `between` (or sleeps)
    in the main process until the run time is over, and joins them."""
    import multiprocessing as mp
    mp.set_start_method("fork")
    workers = [mp.Process(target=target) for _ in range(count)]
    for w in workers:
        w.start()
    while remaining() > 0:
        if between:
            between()
        time.sleep(0.05 if between else 0.2)
    for w in workers:
        w.join()
