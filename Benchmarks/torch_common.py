"""Pieces the torch comparison scripts share: their imports (torch and numpy, or a clear
exit; this checkout's paths and Python package), PyTorch's side of the loader comparison
and the index batches of the embedding comparison."""
import argparse
import os
import sys

try:
    import numpy as np
    import torch
except ImportError as error:
    sys.exit(f"{error.name} is not installed: pip install torch numpy (from PyPI), then run this again")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HOSTMEM = os.environ.get("HOSTMEM", os.path.join(ROOT, ".build", "release", "hostmem"))


def arguments(doc, embedding=True):
    """The comparison scripts' shared options: the loader's dataset (rows, row bytes,
    batch), the embedding workload (table rows, dim, bags, pooling) when `embedding`,
    seconds per measurement and rounds (medians of alternating rounds)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--row-bytes", type=int, default=512)
    parser.add_argument("--batch", type=int, default=256)
    if embedding:
        parser.add_argument("--table-rows", type=int, default=4 << 20)
        parser.add_argument("--dim", type=int, default=128)
        parser.add_argument("--bags", type=int, default=2048)
        parser.add_argument("--pooling", type=int, default=32)
        parser.add_argument("--skip-loader", action="store_true")
        parser.add_argument("--skip-embedding", action="store_true")
        parser.add_argument("--skip-training", action="store_true", help="leave out hostmem.nn.EmbeddingBag's forward and training step")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (PyTorch, then hostmem); medians")
    return parser


def import_hostmem():
    """This checkout's Python package (python/), imported after torch so that the
    loader's pool is pinned through torch's CUDA runtime."""
    sys.path.insert(0, os.path.join(ROOT, "python"))
    import hostmem
    return hostmem


class Rows(torch.utils.data.Dataset):
    """A map-style Dataset over a memory-mapped .npy whose __getitem__ copies one row, as
    a PyTorch user writes it; the file is opened in each worker."""

    def __init__(self, path, rows):
        self.path, self.rows, self.data = path, rows, None

    def __len__(self):
        return self.rows

    def __getitem__(self, index):
        if self.data is None:
            self.data = np.load(self.path, mmap_mode="r")
        return torch.from_numpy(np.array(self.data[index]))


def lookup_indices(dist, rows, count, rng):
    """`count` int64 row indices: uniform, or Zipf(1.05) truncated to the table (numpy's
    zipf is unbounded: clipping its tail would put ~45% of the draws on one row), ranks
    scattered by a random permutation."""
    if dist == "uniform":
        return rng.integers(0, rows, count).astype(np.int64)
    cumulative = np.cumsum(1 / np.arange(1, rows + 1) ** 1.05)
    ranks = np.searchsorted(cumulative, rng.random(count) * cumulative[-1])
    return rng.permutation(rows)[np.minimum(ranks, rows - 1)].astype(np.int64)


def train_for(seconds, loader, step):
    """Runs `step(batch)` over `loader`, epoch after epoch, until `seconds` have passed
    (the jobs the doctor is tried on); says how many batches it took on stderr."""
    import time
    start, batches = time.monotonic(), 0
    while time.monotonic() - start < seconds:
        for batch in loader:
            step(batch)
            batches += 1
            if time.monotonic() - start >= seconds:
                break
    print(f"{batches} batches in {time.monotonic() - start:.1f} s", file=sys.stderr)
