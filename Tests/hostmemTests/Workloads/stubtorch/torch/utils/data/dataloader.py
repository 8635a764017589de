"""A stand-in for torch.utils.data.dataloader with the same iterator class name and the
DataLoader arguments hostmem tune sets, for tests without torch. Its workers are
simulated: a fetch takes fetch_seconds ÷ (1 + num_workers), and ÷ (prefetch_factor ÷ 2)
more with workers (torch's default prefetch_factor is 2)."""
import time


class _BaseDataLoaderIter:
    def __init__(self, loader):
        self._loader, self._next = loader, 0

    def __iter__(self):
        return self

    def __next__(self):
        if self._next >= self._loader.batches:
            raise StopIteration
        self._next += 1
        if self._loader.fetch_seconds:
            time.sleep(self._loader.fetch_seconds / (1 + self._loader.num_workers) / (self._loader.prefetch_factor / 2))
        return self._next


class DataLoader:
    def __init__(self, batches, fetch_seconds=0.0, num_workers=0, pin_memory=False, worker_init_fn=None, prefetch_factor=None,
                 persistent_workers=False):
        if num_workers == 0 and (persistent_workers or prefetch_factor is not None):
            raise ValueError("persistent_workers and prefetch_factor need num_workers > 0 (as torch says)")
        self.batches, self.fetch_seconds, self.num_workers = batches, fetch_seconds, num_workers
        self.prefetch_factor = prefetch_factor or 2

    def __iter__(self):
        return _BaseDataLoaderIter(self)
