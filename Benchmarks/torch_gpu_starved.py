"""A GPU training loop starved by its input: WORKERS (second argument, default 1)
DataLoader workers run a costly Python transform per sample, and the GPU step is one
small matmul, so the GPU idles most of the time while every worker is busy. Runs for
SECONDS (first argument, default 40) on cuda:0. For `hostmem doctor` on a GPU machine:
Benchmarks/gpu-checks.sh."""
import math
import os
import sys

import torch
from torch.utils.data import DataLoader, Dataset

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_common import train_for  # noqa: E402

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 40.0
WORKERS = int(sys.argv[2]) if len(sys.argv) > 2 else 1


class Slow(Dataset):
    def __len__(self):
        return 1 << 20

    def __getitem__(self, index):
        values = [math.sin(index + i) for i in range(2000)]  # a transform written in Python
        return torch.tensor(values[:512], dtype=torch.float32)


def main():
    device = torch.device("cuda:0")
    weight = torch.randn(512, 512, device=device)
    loader = DataLoader(Slow(), batch_size=64, num_workers=WORKERS, pin_memory=True, persistent_workers=WORKERS > 0)
    train_for(SECONDS, loader, lambda x: (x.to(device, non_blocking=True) @ weight).sum().item())


if __name__ == "__main__":
    main()
