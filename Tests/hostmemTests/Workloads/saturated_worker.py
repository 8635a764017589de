"""A loop waiting for data from one worker that never rests: the worker computes
batches as fast as it can into a short queue, the main loop takes each and does
almost nothing with it (the GPU would be idle)."""
import multiprocessing as mp
from common import remaining


def produce(batches):
    while remaining() > 0:
        total = 0
        for i in range(200000):
            total += i * i
        batches.put(total)


if __name__ == "__main__":
    mp.set_start_method("fork")
    batches = mp.Queue(maxsize=4)
    worker = mp.Process(target=produce, args=(batches,), daemon=True)
    worker.start()
    while remaining() > 0.5:
        batches.get(timeout=2)
        sum(range(2000))  # the "training step" is short
