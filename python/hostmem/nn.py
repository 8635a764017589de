"""hostmem.nn.EmbeddingBag: torch.nn.EmbeddingBag's drop-in for the CPU, trained as it is.

    bag = hostmem.nn.EmbeddingBag(4_000_000, 128, mode="sum", sparse=True)
    loss = model(bag(indices, offsets)).sum(); loss.backward(); optimizer.step()

The forward runs hostmem's kernel over the module's own weight (read where it lies, not
copied, so an optimizer's in-place updates are seen at the next step); the backward gives
torch's gradients: dense or sparse (sparse=True) for the weight, per_sample_weights', none
for rows at padding_idx. Both are torch.library custom ops (torch.ops.hostmem.bag_forward,
with its autograd registered), so torch.compile sees one operator. Importing this module
imports torch; `import hostmem` alone does not.
"""
from __future__ import annotations

import ctypes
import os
import threading
from collections import OrderedDict
from typing import Any, Dict, Optional, Tuple, Union

import numpy as np
import torch
from torch import Tensor

from . import _lib, numa
from ._lib import HostMemError, HostMemNotImplementedError, HostMemTypeError, HostMemValueError
from .embedding import EmbeddingBag as _PlainBag, check_prefetch, prepare

__all__ = ["EmbeddingBag", "QuantizedEmbeddingBag", "huge_pages"]

_FORMATS = {torch.float32: 0, torch.float16: 2, torch.bfloat16: 3}
_MODES = {"sum": 0, "mean": 1, "max": 2}
_STYLES = _PlainBag._STYLES


class _Views:
    """The library's bags over weights, one per (address, shape, dtype, settings), made at
    a weight's first lookup and kept: a training loop looks up the same weight every step.
    At most `limit` are kept; one in use by a lookup (which runs without the GIL) is never
    freed under it."""

    def __init__(self, limit: int = 16) -> None:
        self.limit = limit
        self.lock = threading.Lock()
        self.bags: "OrderedDict[tuple, list]" = OrderedDict()  # key -> [handle, lookups running]

    def acquire(self, weight: Tensor, mode: int, threads: int, prefetch: int, style: int) -> Tuple[tuple, ctypes.c_void_p]:
        """A bag over `weight` that sums (mode 0) or averages (1); either takes the max."""
        key = (weight.data_ptr(), tuple(weight.shape), weight.dtype, mode, threads, prefetch, style)
        with self.lock:
            entry = self.bags.get(key)
            if entry is None:
                handle = ctypes.c_void_p()
                _lib.check(_lib._lib.hostmem_bag_view(weight.data_ptr(), weight.shape[0], weight.shape[1], _FORMATS[weight.dtype], mode,
                                                      threads, prefetch, style, ctypes.byref(handle)))
                entry = self.bags[key] = [handle, 0]
                for old in [k for k, (h, running) in self.bags.items() if running == 0 and k != key][:max(0, len(self.bags) - self.limit)]:
                    _lib._lib.hostmem_bag_free(self.bags.pop(old)[0])
            self.bags.move_to_end(key)
            entry[1] += 1
            return key, entry[0]

    def release(self, key: tuple) -> None:
        with self.lock:
            entry = self.bags.get(key)
            if entry is not None:
                entry[1] -= 1

    def forget_after_fork(self) -> None:
        # The bags' threads did not survive the fork: the child makes its own (the parent's are not freed here).
        self.lock = threading.Lock()
        self.bags = OrderedDict()


_views = _Views()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_views.forget_after_fork)


def huge_pages(tensor: Tensor, collapse: bool = True) -> Tuple[int, int]:
    """Asks the kernel for transparent huge pages under a CPU tensor's storage (its 2 MiB-
    aligned part; values unchanged), and with collapse moves the pages already there onto
    huge pages now (about 0.4 s per GiB). Random rows of a table larger than the TLB reaches
    cost a page walk each on 4 KiB pages. Returns (bytes advised, bytes of the mappings
    around it on huge pages now; -1 unknown); raises HostMemError where the kernel refuses
    (THP off, or no MADV_COLLAPSE before Linux 6.1)."""
    if tensor.device.type != "cpu":
        raise HostMemValueError(f"huge pages are for CPU memory; the tensor is on {tensor.device}")
    advised, huge_now = ctypes.c_int64(), ctypes.c_int64()
    _lib.check(_lib._lib.hostmem_huge_pages(tensor.data_ptr(), tensor.numel() * tensor.element_size(), int(collapse),
                                            ctypes.byref(advised), ctypes.byref(huge_now)))
    return advised.value, huge_now.value


def tuned_prefetch(weight: Tensor, threads: int, prefetch: Union[int, str], style: str) -> Tuple[int, str]:
    """(distance, style): what of prefetch ("auto": 8-128 lookups) and style ("auto": burst
    per-lookup or per-lookup-row) is fastest for this weight's shape and dtype on this CPU, timed on the
    weight (about 0.2 s), as hostmem.EmbeddingBag chooses them."""
    handle = ctypes.c_void_p()
    _lib.check(_lib._lib.hostmem_bag_view(weight.data_ptr(), weight.shape[0], weight.shape[1], _FORMATS[weight.dtype], 0,
                                          threads, -1 if prefetch == "auto" else prefetch, _STYLES[style], ctypes.byref(handle)))
    try:
        distance, chosen = ctypes.c_int(), ctypes.c_int()
        _lib.check(_lib._lib.hostmem_bag_prefetch(handle, ctypes.byref(distance), ctypes.byref(chosen)))
        return distance.value, _PlainBag._CHOSEN[chosen.value]
    finally:
        _lib._lib.hostmem_bag_free(handle)


@torch.library.custom_op("hostmem::bag_forward", mutates_args=())
def bag_forward(weight: Tensor, indices: Tensor, offsets: Tensor, per_sample_weights: Optional[Tensor], mode: int,
                padding_idx: int, include_last_offset: bool, sparse: bool, scale_grad_by_freq: bool, threads: int,
                prefetch: int, style: int) -> Tuple[Tensor, Tensor]:
    """nn.EmbeddingBag's pooling by hostmem's kernel: (the pooled rows in the weight's dtype,
    for mode max the row each value came from, else an empty tensor). indices 1-D, offsets
    one per bag (plus the end with include_last_offset); padding_idx -1 for none. sparse and
    scale_grad_by_freq are for the backward."""
    mode_name = ("sum", "mean", "max")[mode]
    threads = threads or torch.get_num_threads()  # 0: the intra-op pool's size now
    weights = None if per_sample_weights is None else per_sample_weights.detach().float().numpy()
    index_array, offset_array, weights = prepare(indices.detach().numpy(), offsets.detach().numpy(), weights, include_last_offset,
                                                 mode_name, None if padding_idx < 0 else padding_idx, weight.shape[0])
    index_array = index_array.astype(np.int64, copy=False)
    offset_array = offset_array.astype(np.int64, copy=False)
    output = np.empty((offset_array.size, weight.shape[1]), dtype=np.float32)
    rows = np.empty(output.shape if mode == 2 else (0,), dtype=np.int64)
    key, handle = _views.acquire(weight.detach(), 1 if mode == 1 else 0, threads, prefetch, style)
    try:
        if mode == 2:
            status = _lib._lib.hostmem_bag_max64(handle, index_array.ctypes.data, index_array.size, offset_array.ctypes.data,
                                                 offset_array.size, output.ctypes.data, rows.ctypes.data)
        else:  # a mean is over the indices that are not padding: they are gone from index_array
            status = _lib._lib.hostmem_bag_lookup64(handle, index_array.ctypes.data, index_array.size, offset_array.ctypes.data,
                                                    offset_array.size, None if weights is None else weights.ctypes.data,
                                                    output.ctypes.data)
    finally:
        _views.release(key)
    _lib.check(status)
    return torch.from_numpy(output).to(weight.dtype), torch.from_numpy(rows)


@bag_forward.register_fake
def _(weight, indices, offsets, per_sample_weights, mode, padding_idx, include_last_offset, sparse, scale_grad_by_freq, threads,
      prefetch, style):
    bags = offsets.shape[0] - (1 if include_last_offset else 0)
    rows = weight.new_empty((bags, weight.shape[1]) if mode == 2 else (0,), dtype=torch.int64)
    return weight.new_empty((bags, weight.shape[1])), rows


@torch.library.custom_op("hostmem::bag_gradient", mutates_args=())
def coalesced_gradient(grad: Tensor, indices: Tensor, offsets: Tensor, per_sample_weights: Optional[Tensor], mode: int,
                       padding_idx: int, by_frequency: bool, rows: int) -> Tuple[Tensor, Tensor]:
    """(distinct rows, ascending; their gradients) of a sum (mode 0) or mean (1) bag lookup
    whose output's gradient is `grad` (float32), by hostmem_bag_gradient64 (an operator, so
    a compiled backward calls it rather than tracing into it)."""
    grad = grad.detach().contiguous()
    indices, offsets = indices.detach().contiguous(), offsets.detach().contiguous()
    weights = None if per_sample_weights is None else per_sample_weights.detach().float().contiguous()
    count = indices.numel()
    rows_out = torch.empty(count, dtype=torch.int64)
    values = torch.empty((count, grad.shape[1]), dtype=torch.float32)
    distinct = ctypes.c_int64()
    _lib.check(_lib._lib.hostmem_bag_gradient64(grad.data_ptr(), grad.shape[1], indices.data_ptr(), count, offsets.data_ptr(),
                                                offsets.numel(), None if weights is None else weights.data_ptr(), mode, padding_idx,
                                                int(by_frequency), rows, rows_out.data_ptr(), values.data_ptr(), torch.get_num_threads(),
                                                ctypes.byref(distinct)))
    # Shrunk in place (no copy, and not a view, which an operator may not return)
    return rows_out.resize_(distinct.value), values.resize_(distinct.value, grad.shape[1])


@coalesced_gradient.register_fake
def _(grad, indices, offsets, per_sample_weights, mode, padding_idx, by_frequency, rows):
    distinct = torch.library.get_ctx().new_dynamic_size()
    return indices.new_empty((distinct,)), grad.new_empty((distinct, grad.shape[1]))


def _setup_context(ctx, inputs, output):
    weight, indices, offsets, per_sample_weights, mode, padding_idx, include_last_offset, sparse, scale_grad_by_freq = inputs[:9]
    ctx.save_for_backward(weight, indices, offsets, per_sample_weights, output[1])
    ctx.options = (mode, padding_idx, include_last_offset, sparse, scale_grad_by_freq)


def _backward(ctx, grad, _grad_rows):
    weight, indices, offsets, per_sample_weights, rows = ctx.saved_tensors
    mode, padding_idx, include_last_offset, sparse, scale_grad_by_freq = ctx.options
    want_weight, want_samples = ctx.needs_input_grad[0], ctx.needs_input_grad[3]
    if include_last_offset:
        end = int(offsets[-1]) if offsets.numel() else 0
        offsets, indices = offsets[:-1], indices[:end]
        per_sample_weights = None if per_sample_weights is None else per_sample_weights[:end]
    grad = grad.contiguous()
    grad_weight = grad_samples = None
    if mode == 2:  # each value's gradient to the row it came from (none from an empty bag)
        if want_weight:
            taken = rows >= 0
            grad_weight = torch.zeros_like(weight).scatter_add_(0, rows.clamp(min=0), grad * taken)
        return grad_weight, None, None, None, None, None, None, None, None, None, None, None
    count = indices.numel()
    native = grad.dtype == torch.float32  # the library's coalesced gradient (padding handled there); else torch's operations
    if want_samples or (want_weight and not native):  # each lookup's bag, and which lookups are not padding
        keep = None if padding_idx < 0 else indices != padding_idx
        sizes = torch.diff(offsets, append=offsets.new_tensor([count]))
        bag_of = torch.repeat_interleave(torch.arange(offsets.numel(), device=grad.device), sizes, output_size=count)
    if want_samples:
        grad_samples = (grad.index_select(0, bag_of) * weight.index_select(0, indices)).sum(1)
        if keep is not None:
            grad_samples = grad_samples * keep
    if want_weight and scale_grad_by_freq and sparse:
        raise HostMemNotImplementedError("embedding_backward: scale_grad_by_freq not supported with sparse gradients (as in torch)")
    if want_weight and native:
        # hostmem's coalesced gradient: one entry per distinct row, summed from the output's gradient
        rows_used, values = coalesced_gradient(grad, indices, offsets, per_sample_weights, mode, padding_idx, scale_grad_by_freq,
                                               weight.shape[0])
        if sparse:
            grad_weight = torch.sparse_coo_tensor(rows_used.unsqueeze(0), values, weight.shape, is_coalesced=True, check_invariants=False)
        else:
            grad_weight = torch.zeros_like(weight).index_put_((rows_used,), values)
    elif want_weight:  # fp16 and bf16 gradients: torch's own operations, one entry per lookup
        per_index = grad.index_select(0, bag_of)
        if mode == 1:  # a bag's mean is over its indices that are not padding
            counted = sizes if keep is None else torch.zeros_like(sizes).index_add_(0, bag_of, keep.to(sizes.dtype))
            per_index = per_index / counted.clamp(min=1).to(grad.dtype).index_select(0, bag_of).unsqueeze(1)
        if per_sample_weights is not None:
            per_index = per_index * per_sample_weights.unsqueeze(1)
        if scale_grad_by_freq:
            _, inverse, frequency = torch.unique(indices, return_inverse=True, return_counts=True)
            per_index = per_index / frequency.index_select(0, inverse).to(grad.dtype).unsqueeze(1)
        rows_used = indices
        if keep is not None:
            per_index, rows_used = per_index[keep], indices[keep]
        if sparse:
            grad_weight = torch.sparse_coo_tensor(rows_used.unsqueeze(0), per_index, weight.shape, check_invariants=False)
        else:
            grad_weight = torch.zeros_like(weight).index_add_(0, rows_used, per_index)
    return grad_weight, None, None, grad_samples, None, None, None, None, None, None, None, None


bag_forward.register_autograd(_backward, setup_context=_setup_context)


class EmbeddingBag(torch.nn.Module):
    """torch.nn.EmbeddingBag with hostmem's kernel on the CPU: the same arguments, weight,
    initialisation, outputs and gradients (dense, or sparse with sparse=True). Tables of
    float32, float16 or bfloat16 (sums in float32, returned in the table's dtype).

    hostmem's knobs, keyword-only: threads (None: torch.get_num_threads() at each call),
    prefetch (rows asked for this many lookups ahead; 0 off; "auto": the fastest of 8-128),
    prefetch_style ("auto": the fastest of burst, per-lookup and per-lookup-row; what is "auto" is timed on
    the weight when the module is made, about 0.2 s, and `self.prefetch`,
    `self.prefetch_style` say what was chosen), and huge_pages (True: the
    weight's memory is put on transparent huge pages when the module is made and whenever
    the weight moves, see huge_pages(); values unchanged; `huge_pages_state` says what the
    kernel did), and numa_node (bind the weight's pages to that NUMA node and move them
    there when the module is made, hostmem.numa.move_to_node; `pages_by_node()` shows
    where they are; run the step on that node's CPUs with hostmem.numa.bind_to_node)."""

    def __init__(self, num_embeddings: int, embedding_dim: int, max_norm: Optional[float] = None, norm_type: float = 2.0,
                 scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False, _weight: Optional[Tensor] = None,
                 include_last_offset: bool = False, padding_idx: Optional[int] = None, device: Any = None, dtype: Any = None, *,
                 threads: Optional[int] = None, prefetch: Union[int, str] = "auto", prefetch_style: str = "auto", huge_pages: bool = True,
                 numa_node: Optional[int] = None) -> None:
        super().__init__()
        if mode not in _MODES:
            raise HostMemValueError(f"mode has to be one of sum, mean or max, not {mode!r}")
        if mode == "max" and sparse:
            raise HostMemValueError("max mode does not support sparse weights (as in torch)")
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise HostMemValueError(f"padding_idx must be within num_embeddings ({num_embeddings}), not {padding_idx}")
            padding_idx = padding_idx % num_embeddings
        if threads is not None and (not isinstance(threads, int) or threads < 1):
            raise HostMemValueError(f"threads must be a positive integer or None, not {threads!r}")
        check_prefetch(prefetch)
        if prefetch_style not in _STYLES:
            raise HostMemValueError(f"prefetch_style must be one of {', '.join(_STYLES)}, not {prefetch_style!r}")
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.max_norm, self.norm_type, self.scale_grad_by_freq = max_norm, norm_type, scale_grad_by_freq
        self.mode, self.sparse, self.include_last_offset, self.padding_idx = mode, sparse, include_last_offset, padding_idx
        self.threads, self.prefetch = threads, prefetch
        if _weight is None:
            self.weight = torch.nn.Parameter(torch.empty((num_embeddings, embedding_dim), device=device, dtype=dtype))
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise HostMemValueError("Shape of weight does not match num_embeddings and embedding_dim")
            self.weight = torch.nn.Parameter(_weight)
        self._check_weight()
        self.huge_pages, self.huge_pages_state, self._advised = bool(huge_pages), "not asked for", None
        self._advise_huge_pages()
        self.numa_node = numa_node
        if numa_node is not None:
            numa.move_to_node(self.weight.detach(), numa_node)
        self.prefetch_style = prefetch_style
        if prefetch == 0:
            self.prefetch_style = "burst" if prefetch_style == "auto" else prefetch_style
        elif prefetch == "auto" or prefetch_style == "auto":
            self.prefetch, self.prefetch_style = tuned_prefetch(self.weight.detach().contiguous(), threads or torch.get_num_threads(),
                                                                prefetch, prefetch_style)

    def _advise_huge_pages(self) -> None:
        """Huge pages under the weight, once per storage it lives in (a moved or replaced weight gets them again)."""
        weight = self.weight.detach()
        if not self.huge_pages or weight.data_ptr() == self._advised or not weight.is_contiguous():
            return
        self._advised = weight.data_ptr()
        try:
            advised, huge_now = huge_pages(weight)
            self.huge_pages_state = (f"{advised >> 20} MiB advised, {huge_now >> 20} MiB on huge pages" if advised
                                     else "the weight spans no whole huge page")
        except HostMemError as error:  # the kernel's refusal is a state to report, not a failure of the module
            self.huge_pages_state = f"refused: {error}"

    def pages_by_node(self) -> Dict[int, int]:
        """Pages of the weight on each NUMA node (move_pages; see hostmem.numa.pages_by_node)."""
        return numa.pages_by_node(self.weight.detach())

    def reset_parameters(self) -> None:
        torch.nn.init.normal_(self.weight)
        if self.padding_idx is not None:
            with torch.no_grad():
                self.weight[self.padding_idx].fill_(0)

    def _check_weight(self) -> None:
        weight = self.weight
        if weight.device.type != "cpu":
            raise HostMemValueError(f"hostmem.nn.EmbeddingBag runs on the CPU; the weight is on {weight.device}")
        if weight.dtype not in _FORMATS:
            raise HostMemTypeError(f"the weight must be float32, float16 or bfloat16, not {weight.dtype}")
        if weight.dim() != 2:
            raise HostMemValueError(f"weight has to be a 2D Tensor, not {weight.dim()}-D")

    @classmethod
    def from_pretrained(cls, embeddings: Tensor, freeze: bool = True, max_norm: Optional[float] = None, norm_type: float = 2.0,
                        scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                        include_last_offset: bool = False, padding_idx: Optional[int] = None, **knobs: Any) -> "EmbeddingBag":
        """As nn.EmbeddingBag.from_pretrained: the module over `embeddings` (2-D), frozen unless freeze=False."""
        if embeddings.dim() != 2:
            raise HostMemValueError("Embeddings parameter is expected to be 2-dimensional")
        rows, dim = embeddings.shape
        bag = cls(rows, dim, _weight=embeddings, max_norm=max_norm, norm_type=norm_type, scale_grad_by_freq=scale_grad_by_freq,
                  mode=mode, sparse=sparse, include_last_offset=include_last_offset, padding_idx=padding_idx, **knobs)
        bag.weight.requires_grad = not freeze
        return bag

    @classmethod
    def from_torch(cls, module: torch.nn.EmbeddingBag, **knobs: Any) -> "EmbeddingBag":
        """The same settings as `module`, sharing its weight Parameter (trained by whichever is called)."""
        bag = cls(module.num_embeddings, module.embedding_dim, max_norm=module.max_norm, norm_type=module.norm_type,
                  scale_grad_by_freq=module.scale_grad_by_freq, mode=module.mode, sparse=module.sparse, _weight=module.weight.data,
                  include_last_offset=module.include_last_offset, padding_idx=module.padding_idx, **knobs)
        bag.weight = module.weight
        return bag

    def forward(self, input: Tensor, offsets: Optional[Tensor] = None, per_sample_weights: Optional[Tensor] = None) -> Tensor:
        self._check_weight()
        if not torch.compiler.is_compiling():
            self._advise_huge_pages()
        for name, value in (("input", input), ("offsets", offsets), ("per_sample_weights", per_sample_weights)):
            if value is not None and not isinstance(value, Tensor):
                raise HostMemTypeError(f"{name} must be a tensor, not {type(value).__name__}")
            if value is not None and value.device.type != "cpu":
                raise HostMemValueError(f"{name} is on {value.device}; hostmem.nn.EmbeddingBag runs on the CPU")
        if input.dtype not in (torch.int32, torch.int64):
            raise HostMemTypeError(f"input must be int32 or int64 indices, not {input.dtype}")
        if offsets is not None and offsets.dtype not in (torch.int32, torch.int64):
            raise HostMemTypeError(f"offsets must be int32 or int64, not {offsets.dtype}")
        if per_sample_weights is not None:
            if self.mode != "sum":
                raise HostMemNotImplementedError(f"embedding_bag: per_sample_weights was not None. per_sample_weights is only supported "
                                                 f"for mode='sum' (got mode='{self.mode}')")
            if per_sample_weights.dtype != self.weight.dtype:
                raise HostMemTypeError(f"per_sample_weights must have the weight's dtype {self.weight.dtype}, not {per_sample_weights.dtype}")
            if per_sample_weights.shape != input.shape:
                raise HostMemValueError(f"per_sample_weights needs the shape of input {tuple(input.shape)}, not {tuple(per_sample_weights.shape)}")
        include_last_offset = self.include_last_offset
        if input.dim() == 2:
            if offsets is not None:
                raise HostMemValueError("if input is 2D, then offsets has to be None, as input is treated is a mini-batch of fixed "
                                        "length sequences")
            offsets = torch.arange(0, input.numel(), input.shape[1], dtype=torch.int64)
            input = input.reshape(-1)
            per_sample_weights = None if per_sample_weights is None else per_sample_weights.reshape(-1)
            include_last_offset = False
        elif input.dim() == 1:
            if offsets is None:
                raise HostMemValueError("offsets has to be a 1D Tensor but got None")
            if offsets.dim() != 1:
                raise HostMemValueError(f"offsets has to be a 1D Tensor, not {offsets.dim()}-D")
        else:
            raise HostMemValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.dim()}")
        if self.max_norm is not None:
            with torch.no_grad():
                torch.embedding_renorm_(self.weight, input, self.max_norm, self.norm_type)
        threads = self.threads or 0  # 0: torch.get_num_threads() at the call, read in the operator
        # The kernel reads rows in place: a strided weight is read through a contiguous copy (autograd passes its gradient on).
        weight = self.weight if self.weight.is_contiguous() else self.weight.contiguous()
        pooled, _ = bag_forward(weight, input.to(torch.int64).contiguous(), offsets.to(torch.int64).contiguous(),
                                per_sample_weights, _MODES[self.mode], -1 if self.padding_idx is None else self.padding_idx,
                                include_last_offset, self.sparse, self.scale_grad_by_freq, threads, self.prefetch,
                                _STYLES[self.prefetch_style])
        return pooled

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}, mode={self.mode!r}"
        for name in ("max_norm", "padding_idx"):
            if getattr(self, name) is not None:
                text += f", {name}={getattr(self, name)}"
        for name in ("scale_grad_by_freq", "sparse", "include_last_offset"):
            if getattr(self, name):
                text += f", {name}=True"
        return text + f", threads={self.threads}, prefetch={self.prefetch} ({self.prefetch_style})"


class QuantizedEmbeddingBag(torch.nn.Module):
    """An inference-only bag over an 8-bit row-wise copy of a table (a scale and a bias per
    row, as FBGEMM's): about a quarter of fp32's bytes per row, tensors in and out. Made from
    a float module or tensor; no gradients (the copy is not a Parameter)."""

    def __init__(self, weight: Tensor, mode: str = "mean", include_last_offset: bool = False, padding_idx: Optional[int] = None, *,
                 threads: int = 1, prefetch: Union[int, str] = "auto", prefetch_style: str = "auto",
                 numa_node: Optional[int] = None) -> None:
        super().__init__()
        if mode == "max":
            raise HostMemNotImplementedError("8-bit tables pool with sum or mean, not max")
        self._bag = _PlainBag(weight.detach().float().cpu().numpy(), mode=mode, dtype="int8", threads=threads, prefetch=prefetch,
                              prefetch_style=prefetch_style, padding_idx=padding_idx, include_last_offset=include_last_offset,
                              numa_node=numa_node)
        self.mode, self.include_last_offset, self.padding_idx = mode, include_last_offset, self._bag.padding_idx
        self.num_embeddings, self.embedding_dim = weight.shape

    @classmethod
    def from_float(cls, module: torch.nn.EmbeddingBag, **knobs: Any) -> "QuantizedEmbeddingBag":
        """The 8-bit copy of a float nn.EmbeddingBag (or hostmem.nn.EmbeddingBag), with its mode, padding and offsets rule."""
        if getattr(module, "max_norm", None) is not None:
            raise HostMemValueError("max_norm renormalises rows as they are looked up; an 8-bit copy cannot follow it")
        return cls(module.weight, mode=module.mode, include_last_offset=module.include_last_offset, padding_idx=module.padding_idx,
                   **knobs)

    def pages_by_node(self) -> Dict[int, int]:
        """Pages of the 8-bit table on each NUMA node (move_pages)."""
        return self._bag.pages_by_node()

    def forward(self, input: Tensor, offsets: Optional[Tensor] = None, per_sample_weights: Optional[Tensor] = None) -> Tensor:
        return torch.from_numpy(self._bag(input, offsets, per_sample_weights))

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}, mode={self.mode!r}, int8 row-wise"
