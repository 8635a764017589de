"""A PyTorch job whose per-sample transform costs (a Python-level augmentation), for
the doctor's "where the workers' time goes". WORKERS (second argument) DataLoader
workers, 0 for fetching in the main process. Runs for SECONDS (first argument)."""
import math
import os
import sys
import time

import torch
from torch.utils.data import DataLoader, Dataset

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_common import train_for  # noqa: E402

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 30.0
WORKERS = int(sys.argv[2]) if len(sys.argv) > 2 else 2


def jitter(values):
    # A costly per-sample transform written in Python.
    return [v * (1.0 + 0.01 * math.sin(i)) for i, v in enumerate(values)]


class Samples(Dataset):
    def __len__(self):
        return 1_000_000

    def __getitem__(self, index):
        values = jitter([float(index % 97)] * 256)
        return torch.tensor(values), index % 10


def main():
    start = time.monotonic()
    loader = DataLoader(Samples(), batch_size=64, shuffle=True, num_workers=WORKERS, persistent_workers=WORKERS > 0)
    model = torch.nn.Linear(256, 10)
    train_for(SECONDS - (time.monotonic() - start), loader, lambda batch: model(batch[0]).sum().backward())


if __name__ == "__main__":
    main()
