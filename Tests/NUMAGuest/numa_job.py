"""A job for the NUMA guest: 300 MiB touched page by page for SECONDS (default 30), on
whatever node its memory policy puts it; the doctor judges where it lands. With a second
argument, the file it creates once every page has been touched (emulated time varies).
With a third, "churn", it also allocates and frees 32 MiB (fresh pages) every pass, so
the kernel's numastat counters move during the doctor's window."""
import sys
import time

memory = bytearray(300 << 20)
end = time.time() + (float(sys.argv[1]) if len(sys.argv) > 1 else 30)
ready = sys.argv[2] if len(sys.argv) > 2 else None
churn = len(sys.argv) > 3 and sys.argv[3] == "churn"
while time.time() < end:
    for offset in range(0, len(memory), 4096):
        memory[offset] = (memory[offset] + 1) & 255
    if churn:
        fresh = bytearray(32 << 20)  # mapped anew (above malloc's mmap threshold), zeroed page by page by the kernel
        del fresh
    if ready:
        open(ready, "w").close()
        ready = None
