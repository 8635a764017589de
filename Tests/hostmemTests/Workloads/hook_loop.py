"""A loop over a DataLoader for the progress hook's tests: `hook_loop.py N SECONDS_PER_BATCH
[kill]` takes N batches (each fetch sleeping that long), prints how many it took (on stderr), then
exits (or, with `kill`, ends itself with SIGKILL, as the OOM killer would)."""
import os
import signal
import sys

from torch.utils.data import DataLoader

batches, fetch = int(sys.argv[1]), float(sys.argv[2])
taken = sum(1 for _ in DataLoader(batches, fetch_seconds=fetch))
print(taken, file=sys.stderr, flush=True)
if len(sys.argv) > 3 and sys.argv[3] == "kill":
    os.kill(os.getpid(), signal.SIGKILL)
