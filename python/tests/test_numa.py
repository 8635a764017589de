import os
import subprocess
import sys
import tarfile

import pytest

import hostmem
from hostmem import HostMemError

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "fixtures", "hwloc-linux")


def extract(name, folder):
    """A captured machine from ../shared/fixtures (its /sys and /proc tree)."""
    archive = os.path.join(FIXTURES, name + ".tar.bz2")
    if not os.path.exists(archive):
        pytest.skip(f"{archive} is absent (../shared not beside the checkout)")
    with tarfile.open(archive) as tar:
        tar.extractall(folder)
    return os.path.join(folder, name)


def test_gpu_node_on_a_captured_machine_with_gpus(tmp_path):
    # A POWER9 machine with 6 GPUs: 3 near node 0 (CPUs 0-15), 3 near node 8 (CPUs 88-103),
    # as hwloc reads it (nvidiagpunumanodes.facts.json).
    root = extract("nvidiagpunumanodes", str(tmp_path))
    assert hostmem.numa.gpu_node(0, root=root) == (0, list(range(16)))
    node, cpus = hostmem.numa.gpu_node(3, root=root)
    assert node == 8 and cpus == list(range(88, 104))
    assert hostmem.numa.gpu_node("0035:05:00.0", root=root)[0] == 8, "by PCI address"
    assert hostmem.numa.gpu_node("cuda:1", root=root)[0] == 0


def test_cuda_visible_devices_is_honoured_by_the_library(tmp_path, monkeypatch):
    """GPU N is CUDA's N: CUDA_VISIBLE_DEVICES reorders and hides, decided in the library
    (the CLI's and the C ABI's definition), an entry past the GPUs ends the list."""
    root = extract("nvidiagpunumanodes", str(tmp_path))
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3,0")
    assert hostmem.numa.gpu_node(0, root=root)[0] == 8
    assert hostmem.numa.gpu_node("cuda:1", root=root)[0] == 0
    with pytest.raises(HostMemError, match='no GPU 2: CUDA sees 2 here .* with CUDA_VISIBLE_DEVICES="3,0"'):
        hostmem.numa.gpu_node(2, root=root)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1,9,0")
    with pytest.raises(HostMemError, match="CUDA sees 1 here"):
        hostmem.numa.gpu_node(1, root=root)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    with pytest.raises(HostMemError, match="CUDA sees 0 here"):
        hostmem.numa.gpu_node(0, root=root)


def test_a_gpu_that_is_not_there(tmp_path):
    with pytest.raises(HostMemError, match="no GPU 7: CUDA sees"):
        hostmem.numa.gpu_node(7)
    with pytest.raises(HostMemError, match="no GPU at PCI address"):
        hostmem.numa.gpu_node("0000:ff:1f.7")
    with pytest.raises(HostMemError, match="a GPU is an index"):
        hostmem.numa.gpu_node(-2)


def test_bind_to_a_node_in_a_child_process():
    # In a child: the binding is for the caller and what it forks, not for pytest.
    code = ("import os, hostmem; cpus = hostmem.numa.bind_to_node(0); "
            "print(sorted(cpus) == sorted(os.sched_getaffinity(0)), len(cpus))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    assert result.returncode == 0, result.stderr
    same, count = result.stdout.split()
    assert same == "True" and int(count) >= 1


def test_bind_to_a_node_that_does_not_exist():
    with pytest.raises(HostMemError, match="no NUMA node 4095"):
        hostmem.numa.bind_to_node(4095)


def test_pages_by_node_and_move_to_node_on_this_machine():
    """Every page of a touched array is on a node that exists; moving it to node 0 (every
    Linux machine has one) keeps its values and puts the pages there; an array not yet
    touched has no page in memory."""
    import numpy as np
    array = np.arange(4 << 20, dtype=np.int32)
    placed = hostmem.numa.pages_by_node(array)
    assert sum(placed.values()) >= array.nbytes // 4096 - 1 and all(node >= 0 for node in placed)
    moved = hostmem.numa.move_to_node(array, 0)
    assert list(moved) == [0] and moved[0] >= array.nbytes // 4096 - 2
    assert array[12345] == 12345
    untouched = np.empty(64 << 20, dtype=np.uint8)  # mmap'd by numpy, never written
    assert sum(hostmem.numa.pages_by_node(untouched).values()) < 16


def test_placement_refuses_what_it_cannot_place():
    import numpy as np
    array = np.ones(1 << 20, dtype=np.uint8)
    with pytest.raises(hostmem.HostMemValueError, match="C-contiguous"):
        hostmem.numa.pages_by_node(array[::2])
    with pytest.raises(hostmem.HostMemValueError, match="numpy array, a CPU tensor or a buffer"):
        hostmem.numa.pages_by_node(42)
    with pytest.raises(hostmem.HostMemValueError, match="non-negative integer"):
        hostmem.numa.move_to_node(array, -1)
    with pytest.raises(HostMemError, match="no NUMA node 4095"):
        hostmem.numa.move_to_node(array, 4095)


def test_an_embedding_bag_placed_on_a_node():
    import numpy as np
    bag = hostmem.EmbeddingBag(np.ones((4096, 64), dtype=np.float32), numa_node=0)
    assert list(bag.pages_by_node()) == [0] and bag.numa_node == 0
    with pytest.raises(hostmem.HostMemValueError, match="numa_node"):
        hostmem.EmbeddingBag(np.ones((16, 4), dtype=np.float32), numa_node="near")
    bag.close()
    with pytest.raises(hostmem.HostMemValueError, match="closed"):
        bag.pages_by_node()
