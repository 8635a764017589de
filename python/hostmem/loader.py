"""A batch loader over a memory-mapped dataset: shuffled batches gathered by hostmem's
worker threads into a fixed pool of buffers, handed to Python without copying."""
from __future__ import annotations

import ctypes
import gc
import os
import sys
import threading
from typing import Any, Dict, Iterator, Optional, Sequence, Union

import numpy as np

from . import _lib
from ._lib import HostMemError, HostMemTypeError, HostMemValueError
from . import numa as _numa


_L = _lib._lib
_Options, _Batch = _lib.LoaderOptions, _lib.LoaderBatch
_END = _lib.END


def _distributed_default():
    """(rank, world_size) from torch.distributed when it is initialized, else RANK and
    WORLD_SIZE from the environment, else (0, 1)."""
    try:
        import torch.distributed as dist
        if dist.is_available() and dist.is_initialized():
            return dist.get_rank(), dist.get_world_size()
    except ImportError:
        pass
    if "RANK" in os.environ and "WORLD_SIZE" in os.environ:
        return int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    return 0, 1


def _pinning_plan(pin):
    """Who pins the pool: "torch" (torch is imported and sees a GPU: its own CUDA runtime
    registers the pool, so the process holds one libcudart), "library" (torch is not
    imported: the library registers it when it finds libcudart), or None."""
    if not pin:
        return None, "pinning not asked for"
    torch = sys.modules.get("torch")
    if torch is None:
        return "library", None
    try:
        available = torch.cuda.is_available()
    except Exception as error:  # a broken CUDA set-up: say so rather than fail the loader
        return None, f"torch.cuda is unusable ({error}), so not pinned"
    return ("torch", None) if available else (None, "torch sees no CUDA device, so not pinned")


def _record_layout(path, dtype, record_shape, what):
    """(record bytes for the C ABI (0: read the .npy header), dtype, shape of one record)."""
    if not isinstance(path, (str, os.PathLike)):
        raise HostMemTypeError(f"{what} is a path to a .npy or raw file, not {type(path).__name__}")
    path = os.fspath(path)
    if not os.path.exists(path):
        raise HostMemError(f"{path}: no such file")
    if dtype is None:
        try:
            array = np.load(path, mmap_mode="r")
        except Exception as error:  # numpy's own message names the problem
            raise HostMemError(f"{path} is not a .npy file numpy can map ({error}); give dtype= and record_shape= for a raw file") from None
        if array.dtype.hasobject:
            raise HostMemTypeError(f"{path} holds Python objects (dtype {array.dtype}); records must be fixed-size numbers")
        if array.ndim < 1:
            raise HostMemValueError(f"{path} holds a scalar, not records")
        return 0, array.dtype, array.shape[1:]
    dtype = np.dtype(dtype)
    if dtype.hasobject:
        raise HostMemTypeError(f"dtype {dtype} holds Python objects; records must be fixed-size numbers")
    shape = tuple(record_shape or ())
    return int(dtype.itemsize * int(np.prod(shape, dtype=np.int64))), dtype, shape


class _Pool:
    """Owns the library's loader (its threads and buffer pool) and the pool's CUDA
    registration. Every batch view refers to it through its slot's array, so the pool
    outlives every view, even of a Loader already dropped."""

    def __init__(self, handle):
        self.handle = handle
        self.registered = None  # the pool's base address while torch's CUDA runtime has it registered
        _lib.track(self)

    def __del__(self):
        handle = getattr(self, "handle", None)
        if handle and not getattr(self, "_forked", False):
            self.handle = None
            if self.registered is not None:
                try:
                    import torch
                    torch.cuda.cudart().cudaHostUnregister(self.registered)
                except Exception:  # torch torn down at exit: the process's end unregisters it
                    pass
            _L.hostmem_loader_free(handle)


class Loader:
    """Shuffled batches of a memory-mapped dataset, gathered by hostmem's worker threads.

        loader = hostmem.Loader("train.npy", labels="labels.npy", batch_size=256, gpu=0)
        for x, y in loader:          # numpy arrays (torch tensors with tensors=True), no copy
            ...

    Each batch lives in one of the pool's buffers until nothing in Python views it any
    more; keep a batch beyond the next few with .copy() (or copy=True). rank/world_size
    deal the samples as torch's DistributedSampler does (default: torch.distributed, or
    RANK and WORLD_SIZE): the epoch's order padded by repeating its start so each rank gets
    as many samples, or with sampler_drop_last (DistributedSampler's drop_last) its tail left
    out so no sample is seen twice. drop_last is DataLoader's: the last partial batch of a
    rank is left out. Every iteration is one epoch, reshuffled; set_epoch() chooses it;
    state_dict()/load_state_dict() resume mid-epoch exactly.
    """

    def __init__(self, data: Union[str, os.PathLike], labels: Optional[Union[str, os.PathLike]] = None, batch_size: int = 256,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False, workers: Optional[int] = None,
                 gpu: Optional[Union[int, str, Any]] = None, numa_node: Optional[int] = None, rank: Optional[int] = None,
                 world_size: Optional[int] = None, prefetch: Optional[int] = None, sort_within_batch: bool = False,
                 copy: bool = False, tensors: bool = False, pin: Union[bool, str] = True, dtype: Any = None,
                 record_shape: Optional[Sequence[int]] = None, label_dtype: Any = None,
                 label_shape: Optional[Sequence[int]] = None, sampler_drop_last: bool = False) -> None:
        self._closed = False
        record_bytes, self.dtype, self.record_shape = _record_layout(data, dtype, record_shape, "data")
        label_bytes, self.label_dtype, self.label_shape = (0, None, None)
        if labels is not None:
            label_bytes, self.label_dtype, self.label_shape = _record_layout(labels, label_dtype, label_shape, "labels")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise HostMemValueError(f"batch_size must be a positive integer, not {batch_size!r}")
        if rank is None and world_size is None:
            rank, world_size = _distributed_default()
        elif rank is None or world_size is None:
            raise HostMemValueError("give both rank and world_size, or neither")
        if not (isinstance(world_size, int) and world_size >= 1 and isinstance(rank, int) and 0 <= rank < world_size):
            raise HostMemValueError(f"rank must be in 0..world_size-1 (got rank={rank!r}, world_size={world_size!r})")
        if gpu is not None and numa_node is not None:
            raise HostMemValueError("give gpu= or numa_node=, not both")
        if gpu is not None:
            numa_node, _ = _numa.gpu_node(gpu)
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        workers = max(1, min(4, cpus - 1)) if workers is None else workers
        if not isinstance(workers, int) or workers < 1:
            raise HostMemValueError(f"workers must be a positive integer, not {workers!r}")
        pinner, self.pinning = _pinning_plan(pin)
        options = _Options(batch_size=batch_size, workers=workers, prefetch=0 if prefetch is None else int(prefetch),
                           shuffle=int(bool(shuffle)), drop_last=int(bool(drop_last)), sort_within_batch=int(bool(sort_within_batch)),
                           pin=int(pinner == "library"), seed=int(seed) & (2**64 - 1), numa_node=-1 if numa_node is None else int(numa_node),
                           rank=rank, world_size=world_size, sampler_drop_last=int(bool(sampler_drop_last)))
        handle = ctypes.c_void_p()
        _lib.check(_L.hostmem_loader_open(os.fspath(data).encode(), record_bytes,
                                          None if labels is None else os.fspath(labels).encode(), label_bytes,
                                          ctypes.byref(options), ctypes.byref(handle)))
        self._pool = _Pool(handle)
        self._handle = handle
        shape = [ctypes.c_int64() for _ in range(5)] + [ctypes.c_int32(), ctypes.c_int32()]
        _lib.check(_L.hostmem_loader_shape(handle, *[ctypes.byref(value) for value in shape]))
        (records, self.record_bytes, self.label_bytes, self.batches_per_epoch, self.samples_per_epoch,
         self.pool_size, pinned) = [value.value for value in shape]
        self.pinned = bool(pinned)
        if pinner == "library":
            self.pinning = ("pinned (cudaHostRegister through the library's libcudart)" if self.pinned
                            else "not pinned (libcudart not found, or it refused)")
        elif pinner == "torch":
            self._pin_through_torch()
        self.records, self.batch_size, self.rank, self.world_size = records, batch_size, rank, world_size
        self.drop_last, self.sampler_drop_last = bool(drop_last), bool(sampler_drop_last)
        self.seed, self.shuffle, self.copy, self.tensors, self.numa_node = seed, shuffle, copy, tensors, numa_node
        self.epoch = 0
        self._resume_batch = 0
        self._next_batch = 0
        self._stopped_early = False
        self._held = {}                 # slot → batch index, for batches Python may still view
        self._slots = {}                # slot → (data pointer, labels pointer, data array, labels array): a full batch's views
        self._batch = _Batch()          # one reply structure, filled by every call
        self._batch_pointer = ctypes.byref(self._batch)
        self.record_shape = tuple(self.record_shape)
        self.label_shape = None if self.label_shape is None else tuple(self.label_shape)
        self._iterating = False
        # Which loop iterates now: (thread, its number); one thread at a time.
        self._claim, self._owner, self._loops = threading.Lock(), None, 0
        self._copy_waiters = []         # callables that wait for device copies reading the pool
        _lib.track(self)

    def _pin_through_torch(self):
        import torch
        base, size = ctypes.c_void_p(), ctypes.c_int64()
        _lib.check(_L.hostmem_loader_pool(self._handle, ctypes.byref(base), ctypes.byref(size)))
        status = int(torch.cuda.cudart().cudaHostRegister(base.value, size.value, 0))
        if status == 0:
            self._pool.registered = base.value
            self.pinned = True
            self.pinning = f"pinned (cudaHostRegister of {size.value >> 20} MiB through torch's CUDA runtime)"
        else:
            self.pinning = f"not pinned: cudaHostRegister through torch returned cudaError {status}"

    def to(self, device: Any, depth: int = 2) -> Any:
        """This loader's batches as tensors on `device`, each copied ahead of use
        (non-blocking from the pinned pool on a side stream, `depth` batches ahead); see
        hostmem.DeviceLoader."""
        from .device import DeviceLoader
        return DeviceLoader(self, device, depth)

    def __len__(self) -> int:
        return self.batches_per_epoch

    def close(self) -> None:
        """No more epochs: the library's loader and its buffer pool go once no batch views
        them (an iteration running now ends at its next batch). Also at the end of `with`."""
        self._closed = True
        if not self._iterating:
            self._release()

    def _release(self) -> None:
        self._handle = None
        self._pool = None  # freed by the last view of its buffers, or now

    def __enter__(self) -> "Loader":
        return self

    def __exit__(self, *exception: object) -> None:
        self.close()

    def set_epoch(self, epoch: int) -> None:
        """The epoch whose shuffle the next iteration uses (seed + epoch), as DistributedSampler."""
        if not isinstance(epoch, int) or epoch < 0:
            raise HostMemValueError(f"the epoch is a non-negative integer, not {epoch!r}")
        self.epoch = epoch
        self._resume_batch = 0
        self._stopped_early = False

    def state_dict(self) -> Dict[str, int]:
        """Where the loader is: the epoch and the batches of it already handed out."""
        done = self._next_batch if self._iterating or self._stopped_early else self._resume_batch
        return {"epoch": self.epoch, "batches_done": done,
                "seed": self.seed, "batch_size": self.batch_size, "rank": self.rank, "world_size": self.world_size,
                "records": self.records}

    def load_state_dict(self, state: Dict[str, int]) -> None:
        """Resume: the next iteration continues that epoch from the next batch."""
        for key in ("seed", "batch_size", "world_size", "records"):
            if state.get(key) != getattr(self, key):
                raise HostMemValueError(f"the state was saved with {key}={state.get(key)!r}; this loader has {getattr(self, key)!r}")
        self.epoch, self._resume_batch = int(state["epoch"]), int(state["batches_done"])
        self._stopped_early = False
        if not 0 <= self._resume_batch <= self.batches_per_epoch:
            raise HostMemValueError(f"batches_done={self._resume_batch} is not in 0..{self.batches_per_epoch}")

    def __iter__(self) -> Iterator[Any]:
        return self._batches(self.tensors)

    def _batches(self, tensors):
        _lib.ensure_not_forked(self, "Loader")
        if self._closed:
            raise HostMemValueError("this Loader is closed")
        me = threading.get_ident()
        with self._claim:
            if self._iterating and self._owner[0] != me:
                raise HostMemValueError("this Loader is being iterated in another thread: one loop at a time per Loader "
                                        "(make a Loader per thread, or hand its batches out from one thread)")
            self._loops += 1
            loop = (me, self._loops)
            self._iterating, self._owner = True, loop
        try:
            # Batches still viewed (the loop variable keeps the last one of the epoch before)
            # keep their buffers until their views go.
            self._give_back_unviewed()
            busy = sorted(self._held)
            _lib.check(_L.hostmem_loader_start(self._handle, self.epoch, self._resume_batch,
                                               (ctypes.c_int32 * max(1, len(busy)))(*busy), len(busy)))
        except BaseException:
            self._iterating, self._owner = False, None
            raise
        self._next_batch = self._resume_batch
        # A loop left before the epoch's end (break): state_dict() still says how far it
        # got; a new iteration starts the epoch again, as a DataLoader's does.
        self._stopped_early = True
        handle, batch, pointer, next_batch = self._handle, self._batch, self._batch_pointer, _L.hostmem_loader_next
        try:
            while True:
                if self._closed:
                    return  # closed mid-epoch: the epoch is not over
                if self._forked:  # an iterator made before os.fork(), continued in the child
                    _lib.ensure_not_forked(self, "Loader")
                if self._held:
                    self._give_back_unviewed()
                    if self._next_batch < self.batches_per_epoch:  # past the end there is no batch to make room for
                        self._wait_for_leases(self._next_batch % self.pool_size)
                status = next_batch(handle, pointer)
                if status == _END:
                    break
                if status:
                    _lib.check(status)
                self._next_batch = batch.index + 1
                yield self._deliver(batch, tensors)
            self.epoch += 1
            self._resume_batch = 0
            self._stopped_early = False
        finally:
            with self._claim:
                if self._owner == loop:  # a loop made again in this thread since has its own claim
                    self._iterating, self._owner = False, None
            if self._closed:
                self._release()

    def _deliver(self, batch, tensors):
        slot = batch.slot
        views = self._slots.get(slot)
        if views is None or views[0] != batch.data or views[1] != batch.labels:
            views = self._map_slot(batch)
        count = batch.count
        data = views[2][:count]
        labels = None if views[3] is None else views[3][:count]
        if self.copy:
            data = data.copy()
            labels = None if labels is None else labels.copy()
            _L.hostmem_loader_release(self._handle, slot)
        else:
            # The buffer goes back once nothing views this batch (`_give_back_unviewed`).
            self._held[slot] = batch.index
        if tensors:
            import torch
            data = torch.from_numpy(data)
            labels = None if labels is None else torch.from_numpy(labels)
        return data if labels is None else (data, labels)

    def _map_slot(self, batch):
        """Arrays over a pool buffer, a full batch long, made once per buffer: a batch is a
        slice of them, so every view of it refers to them (and, through them, to the pool)."""
        arrays = []
        for pointer, dtype, shape, record_bytes in ((batch.data, self.dtype, self.record_shape, self.record_bytes),
                                                    (batch.labels, self.label_dtype, self.label_shape, self.label_bytes)):
            if dtype is None:
                arrays.append(None)
                continue
            raw = (ctypes.c_char * (self.batch_size * record_bytes)).from_address(pointer)
            raw.pool = self._pool
            # Made over the buffer directly (not reshaped from another array): numpy gives
            # every slice of it this array as its base, which is what `_viewed` counts.
            arrays.append(np.ndarray((self.batch_size,) + shape, dtype=dtype, buffer=raw))
        views = self._slots[batch.slot] = (batch.data, batch.labels, arrays[0], arrays[1])
        return views

    def _viewed(self, slot):
        """Whether anything besides the loader refers to the slot's arrays: a slice of
        them, a tensor over one, a copy still reading one. References to each array: the
        tuple in _slots, the local name and getrefcount's argument."""
        _, _, data, labels = self._slots[slot]
        return sys.getrefcount(data) > 3 or (labels is not None and sys.getrefcount(labels) > 3)

    def _give_back_unviewed(self):
        for slot in [slot for slot in self._held if not self._viewed(slot)]:
            del self._held[slot]
            if not self._forked:
                _L.hostmem_loader_release(self._handle, slot)

    def _wait_for_leases(self, slot):
        """User code still views the batch whose buffer the next one needs: wait for the
        device copies that may still read buffers, collect garbage, then refuse with the
        fix."""
        if slot not in self._held:
            return
        for wait in list(self._copy_waiters):
            wait()
        self._give_back_unviewed()
        if slot not in self._held:
            return
        gc.collect()
        self._give_back_unviewed()
        if slot in self._held:
            raise HostMemError(
                f"batch {self._held[slot]} (in buffer {slot} of the pool's {self.pool_size}) is still referenced by your code, so batch "
                f"{self._next_batch} has nowhere to go: keep copies instead (x.copy(), tensor.clone(), or Loader(copy=True)), "
                f"or give the pool more buffers (prefetch={self.pool_size * 2})")

    def __repr__(self):
        return (f"hostmem.Loader({self.records} records of {self.record_bytes} B, batch {self.batch_size}, "
                f"{self.batches_per_epoch} batches per epoch, rank {self.rank} of {self.world_size}, pool of {self.pool_size}, "
                f"{self.pinning})")
