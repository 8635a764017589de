"""Shared by the planted-fault workloads: how long to run, and a clean exit."""
import sys
import time

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 6.0
START = time.monotonic()


def remaining():
    return SECONDS - (time.monotonic() - START)


def busy_until_done():
    """Burns CPU until the run time is over."""
    x = 0
    while remaining() > 0:
        for i in range(20000):
            x += i * i
    return x
