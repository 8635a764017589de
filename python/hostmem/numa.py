"""Put this process next to its GPU: the GPU's NUMA node from sysfs, then CPU affinity
and memory policy bound to it, so DataLoader workers forked afterwards inherit both."""
from __future__ import annotations

import ctypes
from typing import Any, Dict, List, Tuple, Union

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


def _address_and_size(memory: Any) -> Tuple[int, int]:
    """(address, bytes) of a contiguous numpy array, torch CPU tensor or writable buffer."""
    if hasattr(memory, "data_ptr") and hasattr(memory, "element_size"):
        if getattr(memory, "device", None) is not None and memory.device.type != "cpu":
            raise HostMemValueError(f"a tensor on {memory.device} is not in this host's memory")
        if not memory.is_contiguous():
            raise HostMemValueError("the tensor must be contiguous")
        return memory.data_ptr(), memory.numel() * memory.element_size()
    if hasattr(memory, "__array_interface__"):
        interface = memory.__array_interface__
        if interface.get("strides") is not None and not getattr(memory, "flags", {"C_CONTIGUOUS": False})["C_CONTIGUOUS"]:
            raise HostMemValueError("the array must be C-contiguous")
        return interface["data"][0], memory.nbytes
    try:
        view = memoryview(memory)
    except TypeError:
        raise HostMemValueError(f"expected a numpy array, a CPU tensor or a buffer, not {type(memory).__name__}") from None
    if not view.contiguous:
        raise HostMemValueError("the buffer must be contiguous")
    address = ctypes.addressof(ctypes.c_char.from_buffer(view)) if not view.readonly else None
    if address is None:
        raise HostMemValueError("a read-only buffer's address cannot be taken; pass a numpy array over it")
    return address, view.nbytes


def _place(address: int, size: int, node: int) -> Dict[int, int]:
    counts = (ctypes.c_int64 * _CAPACITY)()
    checked, absent = ctypes.c_int64(), ctypes.c_int64()
    _lib.check(_lib._lib.hostmem_place(address, size, node, counts, _CAPACITY, ctypes.byref(checked), ctypes.byref(absent)))
    return {index: int(count) for index, count in enumerate(counts) if count}


def pages_by_node(memory: Any) -> Dict[int, int]:
    """Pages of `memory` (a numpy array, CPU tensor or buffer) on each NUMA node, from the
    kernel (move_pages: every page, or 16384 spread over a larger range); pages not in
    memory yet are left out."""
    address, size = _address_and_size(memory)
    return _place(address, size, -1)


def move_to_node(memory: Any, node: int) -> Dict[int, int]:
    """Binds the pages of `memory` (its whole pages) to a NUMA node and moves those
    already made there (mbind with MPOL_MF_MOVE; pages another process also maps stay);
    values are unchanged. Returns pages_by_node afterwards."""
    if not isinstance(node, int) or isinstance(node, bool) or node < 0:
        raise HostMemValueError(f"a NUMA node is a non-negative integer, not {node!r}")
    address, size = _address_and_size(memory)
    return _place(address, size, node)
