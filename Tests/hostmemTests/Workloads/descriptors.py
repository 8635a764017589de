"""A process near its open-file limit: the soft RLIMIT_NOFILE lowered to 64, then 56
descriptors opened and held, as shared-memory batches pile up."""
import os
import resource
import time
from common import remaining

_, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (64, hard))
held = [os.open("/dev/null", os.O_RDONLY) for _ in range(56)]
while remaining() > 0:
    time.sleep(0.2)
