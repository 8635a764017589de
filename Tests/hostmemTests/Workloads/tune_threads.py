"""A job that sizes its own intra-op pool before making its DataLoader
(torch.set_num_threads(5)) and after (6), writes the pool size it then has to the file named
by its first argument, and iterates a stand-in DataLoader: under
HOSTMEM_TUNE=main_num_threads=N the file must say N, else 6. Runs for 3 s (`hostmem doctor -- CMD` waits for it to end)."""
import sys
import time

import torch
from torch.utils.data import DataLoader

torch.set_num_threads(5)
loader = DataLoader(100, fetch_seconds=0.001)
torch.set_num_threads(6)
with open(sys.argv[1], "w") as f:
    f.write(str(torch.get_num_threads()))
end = time.monotonic() + 3
while time.monotonic() < end:
    for _ in DataLoader(100, fetch_seconds=0.001):
        pass
