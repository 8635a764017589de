#!/usr/bin/env python3
"""Random gather and batch loading: hostmem vs the seed's numpy methods.

    python3 Benchmarks/compare-numpy.py [--size-mib 1024] [--accesses 10000000] [--repeats 5]
    python3 Benchmarks/compare-numpy.py --loader [--rows 2000000] [--row-bytes 512] [--batch 256]

Loader (--loader): a .npy of random uint8 rows, memory-mapped (np.load(mmap_mode='r'));
the seed's per-sample fetch (np.stack of data[i].copy() for each index of a shuffled
batch) and one batched fancy-index gather (data[idx]) per batch, against
`hostmem loader` on the same file, batch size and both cores. Samples per second,
median of repetitions of about 2 s each.

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
parser.add_argument("--loader", action="store_true")
parser.add_argument("--rows", type=int, default=2_000_000)
parser.add_argument("--row-bytes", type=int, default=512)
parser.add_argument("--batch", type=int, default=256)
args = parser.parse_args()

try:
    import numpy as np
except ImportError:
    sys.exit("numpy is not installed: pip install numpy")

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
hostmem = os.environ.get("HOSTMEM", os.path.join(root, ".build", "release", "hostmem"))
if not os.access(hostmem, os.X_OK):
    sys.exit(f"hostmem not built: run 'swift build -c release' in {root}")

if args.loader:
    import tempfile
    folder = tempfile.mkdtemp(prefix="hostmem-loader-")
    path = os.path.join(folder, "rows.npy")
    np.save(path, np.random.default_rng(0).integers(0, 255, (args.rows, args.row_bytes), dtype=np.uint8))
    data = np.load(path, mmap_mode="r")
    data[np.arange(0, args.rows, 4096 // args.row_bytes or 1)].sum()  # page the file in (same state for both)
    rng = np.random.default_rng(2)

    def rate(fetch, seconds=2.0):
        order = rng.permutation(args.rows)
        done, start, position = 0, time.perf_counter(), 0
        while time.perf_counter() - start < seconds:
            idx = order[position:position + args.batch]
            position = (position + args.batch) % (args.rows - args.batch)
            batch = fetch(idx)
            done += len(batch)
        return done / (time.perf_counter() - start)

    per_sample = statistics.median(rate(lambda idx: np.stack([data[i].copy() for i in idx])) for _ in range(args.repeats))
    batched = statistics.median(rate(lambda idx: data[idx]) for _ in range(args.repeats))
    out = subprocess.run([hostmem, "loader", "--data", path, "--batch", str(args.batch), "--workers", "1,2",
                          "--sort", "off", "--advice", "normal", "--seconds", "3", "--json"],
                         check=True, capture_output=True, text=True).stdout
    report = json.loads(out)
    best = max(report["results"], key=lambda r: r["samplesPerSecond"])
    os.remove(path)
    os.rmdir(folder)
    print(f"{args.rows} rows of {args.row_bytes} B (memory-mapped .npy), batch {args.batch}, samples/s, "
          f"median of {args.repeats} runs (hostmem: its best setting, {best['setting']['workers']} workers)")
    print(f"numpy per-sample data[i].copy():   {per_sample:12.0f}")
    print(f"numpy batched data[idx]:           {batched:12.0f}")
    print(f"hostmem loader:                    {best['samplesPerSecond']:12.0f}   "
          f"{best['samplesPerSecond'] / per_sample:6.1f}x per-sample, {best['samplesPerSecond'] / batched:5.1f}x batched")
    print(f"hostmem row-gather limit:          {report['rowGatherLimit']:12.0f}   loader at {best['samplesPerSecond'] / report['rowGatherLimit']:.0%} of it")
    print(f"  with software prefetch:          {report['rowGatherPrefetched']:12.0f}   loader at {best['samplesPerSecond'] / report['rowGatherPrefetched']:.0%} of it")
    sys.exit(0)

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
