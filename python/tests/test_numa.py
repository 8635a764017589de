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
