"""A real PyTorch job whose Dataset holds a Python list of tuples (the field's
copy-on-read case): 2 forked DataLoader workers, persistent, a small model on the CPU.
Runs for SECONDS (first argument, default 60). Used by doctor-container.sh."""
import os
import sys
import time

import torch
from torch.utils.data import DataLoader, Dataset

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_common import train_for  # noqa: E402

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 60.0
ROWS = int(sys.argv[2]) if len(sys.argv) > 2 else 2_000_000


class ListDataset(Dataset):
    def __init__(self, rows):
        # A list of tuples of Python objects: every read writes a refcount.
        self.rows = [(i, float(i) * 0.5, i % 10) for i in range(rows)]

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, index):
        i, x, label = self.rows[index]
        return torch.tensor([x, x * x, float(i % 7)], dtype=torch.float32), label


def main():
    start = time.monotonic()
    loader = DataLoader(ListDataset(ROWS), batch_size=256, shuffle=True, num_workers=2, persistent_workers=True,
                        multiprocessing_context="fork")
    model = torch.nn.Sequential(torch.nn.Linear(3, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

    def step(batch):
        x, y = batch
        loss = torch.nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    train_for(SECONDS - (time.monotonic() - start), loader, step)


if __name__ == "__main__":
    main()
