"""(a) More busy workers than cores: 4 forked workers burn CPU beside a busy main loop."""
import multiprocessing as mp
from common import busy_until_done

if __name__ == "__main__":
    mp.set_start_method("fork")
    workers = [mp.Process(target=busy_until_done) for _ in range(4)]
    for w in workers:
        w.start()
    busy_until_done()  # the "training loop"
    for w in workers:
        w.join()
