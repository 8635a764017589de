"""Run in the NUMA guest: where the pages of what hostmem places on a node really are.

Prints one line of JSON: the node bind_to_node(N) returned and its CPUs, the node of each
page of a 32 MiB array touched after it (from /proc/self/numa_maps), and the same for the
pool of a Loader made with numa_node=N, and the CPUs the process may run on after binding;
then where an EmbeddingBag made with numa_node=N keeps its table, and an array made on
node 0 before and after hostmem.numa.move_to_node(array, N) (both from move_pages)."""
import json
import mmap
import os
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "python"))
import numpy as np  # noqa: E402

import hostmem  # noqa: E402
import hostmem.numa  # noqa: E402

node = int(sys.argv[1])


def pages_of(start, length):
    """Pages per node of the mappings that overlap [start, start + length)."""
    counts = {}
    with open("/proc/self/numa_maps") as maps:
        for line in maps:
            fields = line.split()
            begin = int(fields[0], 16)
            if begin <= start < begin + max(length, 1) or start <= begin < start + length:
                for field in fields:
                    if field.startswith("N") and "=" in field:
                        number, count = field[1:].split("=")
                        counts[number] = counts.get(number, 0) + int(count)
    return counts


result = {}
path = os.path.join(tempfile.mkdtemp(), "x.npy")
np.save(path, np.arange(1 << 20, dtype=np.float32).reshape(-1, 64))
loader = hostmem.Loader(path, batch_size=256, numa_node=node, rank=0, world_size=1, workers=1)
first = next(iter(loader))
result["loader_pool"] = pages_of(first.ctypes.data, 1 << 20)
result["bound_node"], result["bound_cpus"] = node, hostmem.numa.bind_to_node(node)
array = np.ones(32 << 20, dtype=np.uint8)
result["array"] = pages_of(array.ctypes.data, array.nbytes)
result["cpu"] = os.sched_getaffinity(0) and sorted(os.sched_getaffinity(0))

# From here on what is made lands on node 0 unless placed: the embedding bag's stored
# table with numa_node=N, and an array moved to N after it was made.
os.sched_setaffinity(0, range(os.cpu_count()))  # bind_to_node only offers the CPUs still allowed
hostmem.numa.bind_to_node(0)
bag = hostmem.EmbeddingBag(np.ones((16384, 128), dtype=np.float32), numa_node=node)
result["bag_table"] = {str(key): value for key, value in bag.pages_by_node().items()}
# A fresh mapping: malloc could hand back heap pages made on node 1 above.
elsewhere = np.frombuffer(mmap.mmap(-1, 8 << 20), dtype=np.uint8)
elsewhere[:] = 1
result["before_move"] = {str(key): value for key, value in hostmem.numa.pages_by_node(elsewhere).items()}
result["moved"] = {str(key): value for key, value in hostmem.numa.move_to_node(elsewhere, node).items()}
print(json.dumps(result))
