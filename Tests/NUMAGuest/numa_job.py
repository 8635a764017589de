"""A job for the NUMA guest: 300 MiB touched page by page for SECONDS (default 30), on
whatever node its memory policy puts it; the doctor judges where it lands. With a second
argument, the file it creates once every page has been touched (emulated time varies)."""
import sys
import time

memory = bytearray(300 << 20)
end = time.time() + (float(sys.argv[1]) if len(sys.argv) > 1 else 30)
ready = sys.argv[2] if len(sys.argv) > 2 else None
while time.time() < end:
    for offset in range(0, len(memory), 4096):
        memory[offset] = (memory[offset] + 1) & 255
    if ready:
        open(ready, "w").close()
        ready = None
