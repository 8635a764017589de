"""A stand-in for torch.utils.data.dataloader with the same iterator class name, for tests without torch."""
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
            time.sleep(self._loader.fetch_seconds)
        return self._next


class DataLoader:
    def __init__(self, batches, fetch_seconds=0.0):
        self.batches, self.fetch_seconds = batches, fetch_seconds

    def __iter__(self):
        return _BaseDataLoaderIter(self)
