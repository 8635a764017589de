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


def _produce_into(produce, batches):
    batches.cancel_join_thread()  # exit even if the last batches were never read
    produce(batches)


def take_batches_from_worker(produce, maxsize=2):
    """Starts one forked worker running produce(batches), a queue of `maxsize`, and takes
    its batches in the main loop until the run time is over: the training step is short,
    so the loop waits for data."""
    import multiprocessing as mp
    import queue
    mp.set_start_method("fork")
    batches = mp.Queue(maxsize=maxsize)
    worker = mp.Process(target=_produce_into, args=(produce, batches), daemon=True)
    worker.start()
    while remaining() > 0.5:
        try:
            batches.get(timeout=1)
        except queue.Empty:
            break
    worker.terminate()
    worker.join()
