"""Put this process next to its GPU: the GPU's NUMA node from sysfs, then CPU affinity
and memory policy bound to it, so DataLoader workers forked afterwards inherit both."""
from __future__ import annotations

import ctypes
from typing import Any, List, Tuple, Union

from . import _lib
from ._lib import HostMemError, HostMemValueError

_CAPACITY = 4096


def _gpu_index(gpu):
    """An int, 'cuda:N' or a torch.device → CUDA's index N. Which device that is (NVIDIA
    GPUs in PCI order, through CUDA_VISIBLE_DEVICES) the library decides, as for the CLI."""
    if hasattr(gpu, "index") and hasattr(gpu, "type"):
        gpu = gpu.index or 0
    if isinstance(gpu, str) and gpu.startswith("cuda"):
        gpu = int(gpu.split(":")[1]) if ":" in gpu else 0
    if not isinstance(gpu, int) or gpu < 0:
        raise HostMemValueError(f"a GPU is an index (0, 1, …), 'cuda:N' or a PCI address, not {gpu!r}")
    return gpu


def gpu_node(gpu: Union[int, str, Any], root: str = "/") -> Tuple[int, List[int]]:
    """(node, cpus): the NUMA node of a GPU (an index in PCI order, 'cuda:N', a
    torch.device, or a PCI address like '0000:18:00.0') and that node's CPUs this
    process may use. root reads a captured machine instead of this one."""
    node = ctypes.c_int()
    cpus = (ctypes.c_int * _CAPACITY)()
    count = ctypes.c_int()
    if isinstance(gpu, str) and not gpu.startswith("cuda"):
        _lib.check(_lib._lib.hostmem_gpu_node(root.encode(), -1, gpu.encode(), ctypes.byref(node), cpus, _CAPACITY, ctypes.byref(count)))
    else:
        _lib.check(_lib._lib.hostmem_gpu_node(root.encode(), _gpu_index(gpu), None, ctypes.byref(node), cpus, _CAPACITY, ctypes.byref(count)))
    return node.value, list(cpus[: min(count.value, _CAPACITY)])


def bind_to_node(node: int) -> List[int]:
    """Binds this thread (and what it forks later) to a NUMA node: CPU affinity to the
    node's CPUs this process may use, memory allocated from the node. Returns the CPUs."""
    if not isinstance(node, int) or node < 0:
        raise HostMemValueError(f"a NUMA node is a non-negative integer, not {node!r}")
    cpus = (ctypes.c_int * _CAPACITY)()
    count = ctypes.c_int()
    _lib.check(_lib._lib.hostmem_bind_to_node(node, cpus, _CAPACITY, ctypes.byref(count)))
    return list(cpus[: min(count.value, _CAPACITY)])


def bind_to_gpu(gpu: Union[int, str, Any]) -> Tuple[int, List[int]]:
    """Binds to the NUMA node of `gpu` (see gpu_node); returns (node, cpus). Call it
    before creating the DataLoader so its workers inherit the binding."""
    node, _ = gpu_node(gpu)
    return node, bind_to_node(node)
