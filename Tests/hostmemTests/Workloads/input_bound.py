"""A training loop that waits for its next batch: a producer thread fills a queue
slowly and the main loop blocks in queue.get (what DataLoader's _next_data does)."""
import queue
import threading
import time
from common import remaining

batches = queue.Queue()


def producer():
    while remaining() > 0:
        time.sleep(0.02)  # building a batch takes 20 ms
        batches.put(1)


def _next_data():
    return batches.get(timeout=1)


if __name__ == "__main__":
    threading.Thread(target=producer, daemon=True).start()
    while remaining() > 0.5:
        _next_data()
        sum(range(20000))  # the "training step" is short
