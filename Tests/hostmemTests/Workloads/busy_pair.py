"""Two busy processes (a main loop and one forked worker), for a CPU quota to throttle."""
import multiprocessing as mp
from common import busy_until_done

if __name__ == "__main__":
    mp.set_start_method("fork")
    worker = mp.Process(target=busy_until_done)
    worker.start()
    busy_until_done()
    worker.join()
