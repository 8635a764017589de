"""An embedding bag (sum or mean) over fp32 or 8-bit row-wise tables, as nn.EmbeddingBag pools."""
from __future__ import annotations

import ctypes
from typing import Any, Dict, Optional, Union

import numpy as np

from . import _lib, numa
from ._lib import HostMemNotImplementedError, HostMemTypeError, HostMemValueError


def check_prefetch(prefetch: Any) -> None:
    """A prefetch distance is an integer in 0..1024 or "auto"; anything else is refused."""
    if prefetch != "auto" and (not isinstance(prefetch, int) or isinstance(prefetch, bool) or not 0 <= prefetch <= 1024):
        raise HostMemValueError(f"prefetch must be an integer in 0..1024 or 'auto', not {prefetch!r}")


class EmbeddingBag:
    """Pools rows of a table: bag b sums (or averages) table[indices[offsets[b]:offsets[b+1]]].

    table: a (rows, dim) array, copied (float32; dtype="int8" stores it 8-bit row-wise
    quantized, a scale and a bias per row). threads: worker threads per lookup. prefetch:
    ask for rows this many lookups ahead (0: off; "auto": the fastest of 8, 16, 24, 32, 64
    and 128 here), prefetch_style "burst" (the rows past each bag before summing it),
    "per-lookup" (each lookup the row `prefetch` after it, fp32 line by line as it reads its
    own), "per-lookup-row" (the same, the whole row first), or "auto": the fastest here.
    What is "auto" is timed on this table when it is made (about 0.2 s) and the fastest
    kept, which depends on the CPU and the table;
    `self.prefetch` and `self.prefetch_style` say what was chosen.
    numa_node: bind the stored table's pages to this NUMA node (moved there after it is
    made; `pages_by_node()` shows where they are). Run the lookups on that node's CPUs too:
    hostmem.numa.bind_to_node before making the bag.
    """

    _STYLES = {"burst": 0, "per-lookup": 1, "auto": 2, "per-lookup-row": 3}
    _CHOSEN = {0: "burst", 1: "per-lookup", 3: "per-lookup-row"}

    def __init__(self, table: Any, mode: str = "sum", dtype: str = "float32", threads: int = 1, prefetch: Union[int, str] = "auto",
                 prefetch_style: str = "auto", padding_idx: Optional[int] = None, include_last_offset: bool = False,
                 numa_node: Optional[int] = None) -> None:
        if mode not in ("sum", "mean"):
            raise HostMemValueError(f"mode must be 'sum' or 'mean', not {mode!r}")
        if dtype not in ("float32", "int8"):
            raise HostMemValueError(f"dtype must be 'float32' or 'int8', not {dtype!r}")
        array = np.asarray(table)
        if array.dtype == object or not np.issubdtype(array.dtype, np.number):
            raise HostMemTypeError(f"the table must be numeric, not {array.dtype}")
        if array.ndim != 2 or array.shape[0] < 1 or array.shape[1] < 1:
            raise HostMemValueError(f"the table must be 2-D with at least one row and column, not of shape {array.shape}")
        array = np.ascontiguousarray(array, dtype=np.float32)
        if not isinstance(threads, int) or threads < 1:
            raise HostMemValueError(f"threads must be a positive integer, not {threads!r}")
        check_prefetch(prefetch)
        if padding_idx is not None:
            if not isinstance(padding_idx, (int, np.integer)) or not -array.shape[0] <= padding_idx < array.shape[0]:
                raise HostMemValueError(f"padding_idx must be within the table's {array.shape[0]} rows, not {padding_idx!r}")
            padding_idx = int(padding_idx) % array.shape[0]  # as torch: a negative one counts from the end
        if prefetch_style not in self._STYLES:
            raise HostMemValueError(f"prefetch_style must be one of {', '.join(self._STYLES)}, not {prefetch_style!r}")
        if numa_node is not None and (not isinstance(numa_node, int) or isinstance(numa_node, bool) or numa_node < 0):
            raise HostMemValueError(f"numa_node must be a non-negative integer, not {numa_node!r}")
        handle = ctypes.c_void_p()
        _lib.check(_lib._lib.hostmem_bag_create(array.ctypes.data, array.shape[0], array.shape[1], int(dtype == "int8"),
                                                0 if mode == "sum" else 1, threads, -1 if prefetch == "auto" else prefetch,
                                                self._STYLES[prefetch_style],
                                                ctypes.byref(handle)))
        self._handle = handle
        distance, style = ctypes.c_int(), ctypes.c_int()
        _lib.check(_lib._lib.hostmem_bag_prefetch(handle, ctypes.byref(distance), ctypes.byref(style)))
        self.prefetch, self.prefetch_style = distance.value, self._CHOSEN[style.value]
        self.rows, self.dim = array.shape
        self.mode, self.dtype, self.threads = mode, dtype, threads
        self.padding_idx, self.include_last_offset = padding_idx, bool(include_last_offset)
        self.numa_node = numa_node
        _lib.track(self)
        if numa_node is not None:
            self._place(numa_node)

    def _place(self, node: int) -> Dict[int, int]:
        if self._handle is None:
            raise HostMemValueError("the EmbeddingBag is closed")
        address, size = ctypes.c_void_p(), ctypes.c_int64()
        _lib.check(_lib._lib.hostmem_bag_table(self._handle, ctypes.byref(address), ctypes.byref(size)))
        return numa._place(address.value, size.value, node)

    def pages_by_node(self) -> Dict[int, int]:
        """Pages of the stored table on each NUMA node (move_pages; see hostmem.numa.pages_by_node)."""
        return self._place(-1)

    @classmethod
    def from_torch(cls, module: Any, dtype: str = "float32", threads: int = 1, prefetch: Union[int, str] = "auto",
                   prefetch_style: str = "auto") -> "EmbeddingBag":
        """The same table, mode, padding_idx and include_last_offset as a torch.nn.EmbeddingBag
        (sum or mean). max_norm (which renormalises the module's rows as they are looked up)
        and scale_grad_by_freq are refused: the result would differ."""
        mode = getattr(module, "mode", None)
        if mode not in ("sum", "mean"):
            raise HostMemValueError(f"only sum and mean bags can be taken over, not mode {mode!r}")
        if getattr(module, "max_norm", None) is not None:
            raise HostMemValueError("max_norm is not supported: torch renormalises the rows it looks up, in place, which a copied table cannot follow")
        return cls(module.weight.detach().cpu().numpy(), mode=mode, dtype=dtype, threads=threads, prefetch=prefetch,
                   prefetch_style=prefetch_style, padding_idx=getattr(module, "padding_idx", None),
                   include_last_offset=bool(getattr(module, "include_last_offset", False)))

    def __call__(self, indices: Any, offsets: Optional[Any] = None, per_sample_weights: Optional[Any] = None,
                 include_last_offset: Optional[bool] = None) -> np.ndarray:
        """The pooled rows, a (bags, dim) float32 array, as torch.nn.functional.embedding_bag
        gives them: indices 1-D integers with offsets (the start of each bag; offsets[0] must
        be 0; with include_last_offset, the last one ends the last bag and indices past it
        are left out), or 2-D without offsets (one bag per row). per_sample_weights: float32,
        the shape of indices, mode "sum" only. Rows at padding_idx count for nothing (and
        not in a bag's mean). Where torch raises, this raises a HostMemError."""
        _lib.ensure_not_forked(self, "EmbeddingBag")
        if include_last_offset is None:
            include_last_offset = self.include_last_offset
        index_array, offset_array, weights = prepare(indices, offsets, per_sample_weights, include_last_offset, self.mode,
                                                     self.padding_idx, self.rows)
        wide = index_array.dtype == np.int64
        if self._handle is None:
            raise HostMemValueError("this EmbeddingBag is closed")
        output = np.empty((offset_array.size, self.dim), dtype=np.float32)
        lookup = _lib._lib.hostmem_bag_lookup64 if wide else _lib._lib.hostmem_bag_lookup
        _lib.check(lookup(self._handle, index_array.ctypes.data, index_array.size, offset_array.ctypes.data,
                          offset_array.size, None if weights is None else weights.ctypes.data, output.ctypes.data))
        return output

    def op(self, indices: Any, offsets: Any, per_sample_weights: Optional[Any] = None) -> Any:
        """The same lookup through torch.ops.hostmem.embedding_bag (a torch.library custom
        op, forward only): for code that wants an operator, e.g. under torch.compile."""
        from . import torch_ops
        operator = torch_ops.register()
        return operator(torch_ops.bag_id(self), self.dim, indices, offsets, per_sample_weights)

    def close(self) -> None:
        """Frees the table now (it is freed with the object otherwise); the bag cannot be used after."""
        handle = getattr(self, "_handle", None)
        self._handle = None
        if handle and not getattr(self, "_forked", False):
            _lib._lib.hostmem_bag_free(handle)

    def __enter__(self) -> "EmbeddingBag":
        return self

    def __exit__(self, *exception: object) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()

    def __repr__(self):
        return f"hostmem.EmbeddingBag({self.rows} × {self.dim}, mode={self.mode!r}, dtype={self.dtype!r}, threads={self.threads}, prefetch={self.prefetch} ({self.prefetch_style}))"


def prepare(indices: Any, offsets: Optional[Any], per_sample_weights: Optional[Any], include_last_offset: bool, mode: str,
            padding_idx: Optional[int], rows: int):
    """A lookup's arguments as the library takes them, checked as torch checks them (one
    HostMemError where torch raises): indices and offsets as contiguous int32 arrays (when
    they came as int32) or int64 ones, offsets one per bag (2-D indices made flat, the
    include_last_offset end left out), indices at padding_idx removed, and the weights as
    a contiguous float32 array or None."""
    indices = _as_numpy(indices)
    offsets = None if offsets is None else _as_numpy(offsets)
    weights = None if per_sample_weights is None else _as_numpy(per_sample_weights)
    if isinstance(per_sample_weights, (list, tuple)):  # numbers, not an array with a dtype of its own
        weights = weights.astype(np.float32)
    if indices.dtype.kind not in "iu":
        raise HostMemTypeError(f"indices must be integers, not {indices.dtype}")
    if weights is not None:
        if weights.shape != indices.shape:
            raise HostMemValueError(f"per_sample_weights needs one weight per index, the shape of the indices {indices.shape}, not {weights.shape}")
        if mode != "sum":
            raise HostMemNotImplementedError(f"per_sample_weights is only supported for mode='sum' (as in torch), not mode={mode!r}")
        if weights.dtype != np.float32:
            raise HostMemTypeError(f"per_sample_weights must be float32 like the table, not {weights.dtype}")
        weights = weights.reshape(-1)
    if indices.ndim == 2:
        if offsets is not None:
            raise HostMemValueError("2-D indices are one bag per row: give no offsets")
        offsets = np.arange(0, indices.size, indices.shape[1], dtype=np.int64)
        indices = indices.reshape(-1)
        include_last_offset = False
    elif indices.ndim != 1:
        raise HostMemValueError(f"indices must be 1-D (with offsets) or 2-D, not {indices.ndim}-D")
    if offsets is None:
        raise HostMemValueError("1-D indices need offsets (the start of each bag)")
    if offsets.dtype.kind not in "iu":
        raise HostMemTypeError(f"offsets must be integers, not {offsets.dtype}")
    if offsets.ndim != 1:
        raise HostMemValueError(f"offsets must be 1-D, not {offsets.ndim}-D")
    if offsets.size:
        if offsets[0] != 0:
            raise HostMemValueError(f"offsets[0] has to be 0 (the first bag starts at the first index), not {offsets[0]}")
        if offsets[-1] > indices.size:
            raise HostMemValueError(f"offsets[-1] ({offsets[-1]}) can not be greater than the number of indices ({indices.size})")
    if include_last_offset:
        if offsets.size == 0:
            raise HostMemValueError("with include_last_offset there must be at least one offset (the end of the last bag)")
        end = int(offsets[-1])
        if end < indices.size and offsets.size > 1 and (mode != "sum" or padding_idx is not None):
            # torch 2.x: a sum without padding_idx ends the last bag there; mean, max and any
            # padding_idx run it to the end of the indices (and a mean divides by those).
            raise HostMemValueError(f"with include_last_offset, mode={mode!r} or a padding_idx, the last offset must be the number "
                                    f"of indices ({indices.size}), not {end}: torch's own result for the indices past it depends "
                                    f"on the mode and padding_idx")
        offsets, indices = offsets[:-1], indices[:end]
        weights = None if weights is None else weights[:end]
    if padding_idx is not None:
        indices, offsets, weights = _without_padding(indices, offsets, weights, padding_idx)
    # 32-bit indices go to the library as they are; any other integers as 64-bit ones,
    # which the library checks and narrows itself (PyTorch's indices are int64).
    wide = indices.dtype != np.int32
    kind = np.int64 if wide else np.int32
    if wide and indices.dtype == np.uint64 and indices.size and indices.max() > np.iinfo(np.int64).max:
        raise HostMemValueError(f"index {indices.max()} is outside the table's {rows} rows")
    index_array = np.ascontiguousarray(indices, dtype=kind)
    offset_array = np.ascontiguousarray(offsets, dtype=kind)
    weights = None if weights is None else np.ascontiguousarray(weights, dtype=np.float32)
    return index_array, offset_array, weights


def _without_padding(indices, offsets, weights, padding_idx):
    """The lookup with every index equal to padding_idx left out, each bag's offset moved
    back by the padding before it (a bag of padding only is empty: zeros, as torch)."""
    keep = indices != padding_idx
    if keep.all():
        return indices, offsets, weights
    kept_before = np.concatenate(([0], np.cumsum(keep)))
    return indices[keep], kept_before[offsets], None if weights is None else weights[keep]


def _as_numpy(value):
    """numpy arrays as they are; torch tensors through .numpy() (on the CPU); lists converted."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        value = value.detach().cpu().numpy()
    return np.asarray(value)
