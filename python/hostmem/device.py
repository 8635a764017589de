"""A Loader's batches copied to a device ahead of use: the prefetching GPU loader."""
from __future__ import annotations

import collections
from typing import Any

from ._lib import HostMemError, HostMemValueError


class DeviceLoader:
    """Iterates a Loader's batches as tensors on `device`.

    On CUDA each batch is copied with non_blocking=True on a side stream, `depth` batches
    ahead of the one handed out, from the loader's pool (pinned when torch sees a GPU, so
    the copies are DMA transfers that overlap the training step). The stream you compute
    on waits for a batch's copy before you get it (an event, not a synchronize), and the
    batch's tensors are marked used on that stream, so the caching allocator does not hand
    their memory out early. A pool buffer goes back only once the copy that reads it has
    finished: its event is recorded after the copy and waited on before the buffer is
    reused. On the CPU the batches are the pool's own tensors; other devices copy
    blocking.
    """

    def __init__(self, loader: Any, device: Any, depth: int = 2) -> None:
        try:
            import torch
        except ImportError:
            raise HostMemError("Loader.to(device) needs torch: pip install torch") from None
        self._torch = torch
        self.loader = loader
        try:
            self.device = torch.device(device)
        except (RuntimeError, TypeError) as error:
            raise HostMemValueError(f"{device!r} is not a torch device ({error})") from None
        if self.device.type == "cuda":
            if not torch.cuda.is_available():
                raise HostMemError(f"{self.device} was asked for, but torch sees no CUDA device")
            index = self.device.index if self.device.index is not None else torch.cuda.current_device()
            if index >= torch.cuda.device_count():
                raise HostMemError(f"{self.device} was asked for, but torch sees {torch.cuda.device_count()} CUDA device(s)")
            self.device = torch.device("cuda", index)
        if not isinstance(depth, int) or depth < 1:
            raise HostMemValueError(f"depth must be a positive integer, not {depth!r}")
        if depth + 1 >= loader.pool_size:
            raise HostMemValueError(f"depth {depth} leaves no buffer of the pool's {loader.pool_size} to fill: use depth ≤ "
                               f"{loader.pool_size - 2}, or a bigger pool (Loader(prefetch={depth + 3}))")
        self.depth = depth
        self._position = None  # (epoch, batches handed out of it) while iterating

    def __len__(self) -> int:
        return len(self.loader)

    def close(self) -> None:
        """Closes the loader it copies from (see Loader.close)."""
        self.loader.close()

    def __enter__(self) -> "DeviceLoader":
        return self

    def __exit__(self, *exception: object) -> None:
        self.close()

    def __iter__(self):
        torch = self._torch
        cuda = self.device.type == "cuda"
        stream = torch.cuda.Stream(self.device) if cuda else None
        ahead = collections.deque()   # (device tensors, event) copied or being copied, oldest first
        copying = collections.deque()  # (event, host tensors) whose copy may still read the pool

        def finished():
            """Host batches whose copies are done stop holding their buffers."""
            while copying and copying[0][0].query():
                copying.popleft()

        def wait_for_copies():
            """The loader needs a buffer a copy may still read: wait for every copy."""
            while copying:
                copying.popleft()[0].synchronize()

        def launch(host):
            if not cuda:
                return tuple(tensor.to(self.device) for tensor in host), None
            with torch.cuda.stream(stream):
                moved = tuple(tensor.to(self.device, non_blocking=True) for tensor in host)
                event = torch.cuda.Event()
                event.record(stream)
            copying.append((event, host))
            return moved, event

        def hand_over(moved, event):
            if event is not None:
                current = torch.cuda.current_stream(self.device)
                current.wait_event(event)
                for tensor in moved:
                    tensor.record_stream(current)
            finished()
            epoch, handed = self._position
            self._position = (epoch, handed + 1)
            return moved if len(moved) > 1 else moved[0]

        self._position = (self.loader.epoch, self.loader._resume_batch)
        self.loader._copy_waiters.append(wait_for_copies)
        try:
            for host in self.loader._batches(tensors=True):
                ahead.append(launch(host if isinstance(host, tuple) else (host,)))
                host = None  # the pool buffer is held by `copying` alone now
                if len(ahead) > self.depth:
                    yield hand_over(*ahead.popleft())
            while ahead:
                yield hand_over(*ahead.popleft())
        finally:
            self._position = None
            self.loader._copy_waiters.remove(wait_for_copies)
            wait_for_copies()

    def state_dict(self):
        """The loader's state as of the batches handed out: those copied ahead are not
        counted, so a resume gives them again."""
        state = self.loader.state_dict()
        if self._position is not None:
            state["epoch"], state["batches_done"] = self._position
        return state

    def load_state_dict(self, state):
        self.loader.load_state_dict(state)

    def __repr__(self):
        return f"hostmem.DeviceLoader({self.device}, {self.depth} ahead, over {self.loader!r})"
