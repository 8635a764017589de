#!/usr/bin/env python3
"""Random gather: hostmem vs the seed's numpy method, on the same working set.

    python3 Benchmarks/compare-numpy.py [--size-mib 1024] [--accesses 10000000] [--repeats 5]

The seed's method: `np.sum(data[idx])` over a 1 GiB uint64 array, with `idx` a fresh
array of 10 M random indices each repetition (generated outside the timed region), so
the touched lines are not already in the cache. Each index touches one 64-byte line.
hostmem: `hostmem bench random` on the same working-set size, its gather of fresh
random lines with all CPUs (its 1-thread figure is printed too). Medians, in millions
of accesses per second. Needs numpy (pip install numpy) and a release build of hostmem.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--size-mib", type=int, default=1024)
parser.add_argument("--accesses", type=int, default=10_000_000)
parser.add_argument("--repeats", type=int, default=5)
args = parser.parse_args()

try:
    import numpy as np
except ImportError:
    sys.exit("numpy is not installed: pip install numpy")

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
hostmem = os.environ.get("HOSTMEM", os.path.join(root, ".build", "release", "hostmem"))
if not os.access(hostmem, os.X_OK):
    sys.exit(f"hostmem not built: run 'swift build -c release' in {root}")

size = args.size_mib << 20
data = np.ones(size // 8, dtype=np.uint64)  # touched: every page resident
rng = np.random.default_rng(1)
np.sum(data[rng.integers(0, data.size, args.accesses)])  # warm-up
numpy_rates = []
for _ in range(args.repeats):
    idx = rng.integers(0, data.size, args.accesses)
    start = time.perf_counter()
    total = np.sum(data[idx])
    elapsed = time.perf_counter() - start
    assert total == args.accesses
    numpy_rates.append(args.accesses / elapsed / 1e6)
del data

out = subprocess.run(
    [hostmem, "bench", "random", "--size", str(size), "--accesses", str(args.accesses),
     "--repetitions", str(args.repeats), "--json"],
    check=True, capture_output=True, text=True).stdout
result = json.loads(out)["random"]
gathers = {row["threads"]: row["rate"]["millionAccessesPerSecond"]["median"] for row in result["gather"]}
chain = result["dependentChain"]["millionAccessesPerSecond"]["median"]
threads = max(gathers)

numpy_median = statistics.median(numpy_rates)
print(f"working set {args.size_mib} MiB, {args.accesses / 1e6:g} M fresh random accesses per repetition, "
      f"{args.repeats} repetitions, medians, M accesses/s (64 B lines)")
print(f"numpy np.sum(data[idx]) (1 thread):        {numpy_median:8.1f}")
print(f"hostmem dependent chain (1 thread):         {chain:8.1f}")
print(f"hostmem gather (1 thread):                  {gathers[1]:8.1f}   {gathers[1] / numpy_median:5.2f}x numpy")
print(f"hostmem gather ({threads} threads):                 {gathers[threads]:8.1f}   {gathers[threads] / numpy_median:5.2f}x numpy")
print(f"hostmem gather ÷ dependent chain (1 thread): {gathers[1] / chain:.1f}x")
