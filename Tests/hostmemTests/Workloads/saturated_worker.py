"""A loop waiting for data from one worker that never rests: the worker computes
batches as fast as it can into a short queue, the main loop takes each and does
nothing with it (the GPU would be idle)."""
from common import remaining, take_batches_from_worker


def produce(batches):
    while remaining() > 0:
        total = 0
        for i in range(200000):
            total += i * i
        batches.put(total)


if __name__ == "__main__":
    take_batches_from_worker(produce, maxsize=4)
