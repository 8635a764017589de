"""A loop for hostmem tune's tests: DataLoaders of `batches` fetches of `fetch` seconds over
the stand-in torch.utils.data (whose workers divide the fetch), made epoch after epoch
until killed; prints nothing."""
import sys

from torch.utils.data import DataLoader

batches, fetch = int(sys.argv[1]), float(sys.argv[2])
while True:
    for _ in DataLoader(batches, fetch_seconds=fetch):
        pass
