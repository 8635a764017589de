"""Workers re-created again and again, as a DataLoader without persistent_workers
starts new ones every epoch: two forked workers live 0.6 s, then two new ones start."""
import multiprocessing as mp
import time
from common import remaining


def worker():
    time.sleep(0.6)


if __name__ == "__main__":
    mp.set_start_method("fork")
    while remaining() > 0.8:
        workers = [mp.Process(target=worker) for _ in range(2)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        time.sleep(0.2)
