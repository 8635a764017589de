"""hostmem for PyTorch users, over libhostmem_c.so (the C ABI in include/hostmem.h).

    import hostmem
    for x, y in hostmem.Loader("train.npy", labels="labels.npy", batch_size=256, gpu=0): ...
    for x, y in hostmem.Loader("train.npy", labels="labels.npy", gpu=0).to("cuda:0"): ...  # copied ahead, pinned
    bag = hostmem.EmbeddingBag(table, mode="sum", dtype="int8")
    pooled = bag(indices, offsets)
    node, cpus = hostmem.numa.bind_to_gpu(0)
    import hostmem.nn; bag = hostmem.nn.EmbeddingBag(rows, dim, mode="sum", sparse=True)   # nn.EmbeddingBag's drop-in, trains
"""
from ._lib import HostMemError, HostMemNotImplementedError, HostMemTypeError, HostMemValueError, library_path, version
from .device import DeviceLoader
from .embedding import EmbeddingBag
from .loader import Loader
from . import numa

__all__ = ["DeviceLoader", "EmbeddingBag", "HostMemError", "HostMemNotImplementedError", "HostMemTypeError", "HostMemValueError", "Loader", "library_path", "numa",
           "version"]
