"""Run in the NUMA guest under gpu_server.sh: for each GPU (under CUDA_VISIBLE_DEVICES given
as the first argument, or "all" for none; the second says how many GPUs), a child process calls
hostmem.numa.bind_to_gpu(i), touches 16 MiB and reports the node, its CPUs, the CPUs it
may run on and where the 16 MiB are (move_pages). One line of JSON per GPU."""
import json
import multiprocessing
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "python"))
import numpy as np  # noqa: E402

import hostmem.numa  # noqa: E402


def bound(gpu, results):
    node, cpus = hostmem.numa.bind_to_gpu(gpu)
    touched = np.ones(16 << 20, dtype=np.uint8)
    results.put({"gpu": gpu, "node": node, "cpus": cpus, "allowed": sorted(os.sched_getaffinity(0)),
                 "pages": {str(key): value for key, value in hostmem.numa.pages_by_node(touched).items()}})


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] != "all":
        os.environ["CUDA_VISIBLE_DEVICES"] = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    results = multiprocessing.Queue()
    for gpu in range(count):
        child = multiprocessing.Process(target=bound, args=(gpu, results))
        child.start()
        print(json.dumps(results.get(timeout=300)), flush=True)
        child.join()
