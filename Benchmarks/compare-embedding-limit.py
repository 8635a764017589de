#!/usr/bin/env python3
"""hostmem's embedding bag against the machine's limit and against PyTorch, in one run.

    python3 Benchmarks/compare-embedding-limit.py [--table-rows 4194304] [--dim 128] [--bags 2048]
        [--pooling 32] [--seconds 1] [--rounds 3] [--threads 1,2] [--dists uniform,zipf:1.05]

For each index distribution (uniform; Zipf 1.05 with ranks scattered over the table) and
thread count, each round runs, in an order that reverses every other round:
  - `hostmem embed` (release build) on the saved indices, knobs plain, dedup, prefetch,
    prefetch-each and prefetch-row (the prefetch distance tuned on the table), fp32 and
    8-bit row-wise; its gather limit (every row's lines read, nothing summed, each
    prefetch style and distance swept);
  - Benchmarks/embedding-limit.c (compiled here with clang -O3 -march=native): an independent
    loop that sums the same indices' rows of its own table of the same shape, fp32 and
    int8, its prefetch distance swept 0-128, the best taken;
  - PyTorch (when installed): nn.EmbeddingBag(mode="sum") fp32 and
    torch.ops.quantized.embedding_bag_byte_rowwise_offsets (FBGEMM) on the 8-bit
    prepacked table, torch.set_num_threads(N).
Each figure is the median over the rounds (hostmem's best knob: the best of the knobs'
medians), M lookups/s. Prints, per case: hostmem's best knob ÷ the summing loop (goal
≥ 0.95), ÷ PyTorch (goal ≥ 1.0), and whether hostmem's limit ever fell below a knob.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
HOSTMEM = os.environ.get("HOSTMEM", os.path.join(ROOT, ".build", "release", "hostmem"))

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--table-rows", type=int, default=4 << 20)
parser.add_argument("--dim", type=int, default=128)
parser.add_argument("--bags", type=int, default=2048)
parser.add_argument("--pooling", type=int, default=32)
parser.add_argument("--seconds", type=float, default=1.0)
parser.add_argument("--rounds", type=int, default=3)
parser.add_argument("--threads", default="1,2")
parser.add_argument("--dists", default="uniform,zipf:1.05")
args = parser.parse_args()

import numpy as np  # noqa: E402

try:
    import torch
except ImportError:
    torch = None
    print("PyTorch is not installed: its columns are left out (pip install torch)", file=sys.stderr)

if not os.path.exists(HOSTMEM):
    sys.exit(f"{HOSTMEM} is missing: swift build -c release (or set HOSTMEM)")
loop = os.path.join(ROOT, ".build", "embedding-limit")
# clang, as SwiftPM compiles hostmem's own C: GCC 12's code for the same loop ran at half
# the plain rate here (its sums went through the stack), which would flatter hostmem.
compiler = shutil.which("clang") or "cc"
subprocess.run([compiler, "-O3", "-march=native", "-pthread", "-o", loop, os.path.join(HERE, "embedding-limit.c"), "-lm"], check=True)


def lookup_indices(dist, rows, count, rng):
    if dist == "uniform":
        return rng.integers(0, rows, count).astype(np.int64)
    exponent = float(dist.split(":")[1])
    cumulative = np.cumsum(1 / np.arange(1, rows + 1) ** exponent)
    ranks = np.searchsorted(cumulative, rng.random(count) * cumulative[-1])
    return rng.permutation(rows)[np.minimum(ranks, rows - 1)].astype(np.int64)


per = args.bags * args.pooling
folder = tempfile.mkdtemp()
if torch is not None:
    weight = torch.rand(args.table_rows, args.dim) * 2 - 1
    module = torch.nn.EmbeddingBag(args.table_rows, args.dim, mode="sum", _weight=weight)
    packed = torch.ops.quantized.embedding_bag_byte_prepack(weight)
    offsets = torch.arange(0, per, args.pooling, dtype=torch.int64)


def torch_rates(batches, threads):
    torch.set_num_threads(threads)

    def rate(call):
        for batch in batches[:2]:
            call(batch)
        done, start, index = 0, time.perf_counter(), 0
        while time.perf_counter() - start < args.seconds:
            call(batches[index % len(batches)])
            done += per
            index += 1
        return done / (time.perf_counter() - start) / 1e6

    with torch.no_grad():
        return {"fp32": rate(lambda b: module(b, offsets)),
                "int8": rate(lambda b: torch.ops.quantized.embedding_bag_byte_rowwise_offsets(packed, b, offsets, False, 0))}


def loop_rates(path, threads):
    rates = {}
    for dtype in ("fp32", "int8"):
        out = subprocess.run([loop, "--indices", path, "--rows", str(args.table_rows), "--dim", str(args.dim), "--dtype", dtype,
                              "--threads", str(threads), "--batch", str(args.bags), "--pooling", str(args.pooling),
                              "--seconds", str(args.seconds / 2)], check=True, capture_output=True, text=True).stdout
        result = json.loads(out)
        rates[dtype] = (result["best"] / 1e6, result["bestDistance"])
    return rates


def hostmem_rates(path, threads):
    report = json.loads(subprocess.run(
        [HOSTMEM, "embed", "--rows", str(args.table_rows), "--dim", str(args.dim), "--batch", str(args.bags), "--pooling", str(args.pooling),
         "--indices", path, "--threads", str(threads), "--seconds", str(args.seconds), "--knobs", "plain,dedup,prefetch,prefetch-each,prefetch-row", "--json"],
        check=True, capture_output=True, text=True).stdout)
    names = {"float32": "fp32", "int8RowWise": "int8"}
    knobs = {(names[r["storage"]], r["knob"]): r["lookupsPerSecond"] / 1e6 for r in report["results"]}
    limits = {names[limit["storage"]]: max(limit["lookupsPerSecond"], limit["prefetchedLookupsPerSecond"]) / 1e6 for limit in report["gatherLimits"]}
    return knobs, limits, report.get("warnings") or []


rows = []
for dist in args.dists.split(","):
    indices = lookup_indices(dist, args.table_rows, 8 * per, np.random.default_rng(3))
    path = os.path.join(folder, "indices.npy")
    np.save(path, indices)
    batches = [torch.from_numpy(indices[i * per:(i + 1) * per]) for i in range(8)] if torch is not None else []
    for threads in (int(t) for t in args.threads.split(",")):
        rounds = []
        for round_number in range(args.rounds):
            steps = [("hostmem", lambda: hostmem_rates(path, threads)), ("loop", lambda: loop_rates(path, threads))]
            if torch is not None:
                steps.append(("torch", lambda: torch_rates(batches, threads)))
            if round_number % 2:
                steps.reverse()
            figures = {}
            for name, step in steps:
                figures[name] = step()
            rounds.append(figures)
            print(f"  {dist}, {threads} thread(s), round {round_number + 1} done", file=sys.stderr)
        for dtype in ("fp32", "int8"):
            knob_names = sorted({knob for (d, knob) in rounds[0]["hostmem"][0] if d == dtype})
            medians = {knob: statistics.median(r["hostmem"][0][(dtype, knob)] for r in rounds) for knob in knob_names}
            best_knob = max(medians, key=medians.get)
            limit = statistics.median(r["hostmem"][1][dtype] for r in rounds)
            summing = statistics.median(r["loop"][dtype][0] for r in rounds)
            distances = sorted({r["loop"][dtype][1] for r in rounds})
            warned = sum(1 for r in rounds for warning in r["hostmem"][2] if warning.startswith("float32" if dtype == "fp32" else "int8"))
            pytorch = statistics.median(r["torch"][dtype] for r in rounds) if torch is not None else None
            rows.append((dist, threads, dtype, best_knob, medians[best_knob], summing, distances, pytorch, limit, warned))
    os.remove(path)
os.rmdir(folder)

cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
flags = open("/proc/cpuinfo").read()
isa = "AVX-512" if " avx512f" in flags else "AVX2" if " avx2" in flags else "SSE"
print(f"\nEmbedding bag (summing loop built with {os.path.basename(compiler)}), {args.table_rows} x {args.dim}, batch {args.bags} x {args.pooling}, sum; {cpu} ({isa}), "
      f"M lookups/s, medians of {args.rounds} alternating rounds, {args.seconds} s per setting")
print("| indices | threads | dtype | hostmem best knob | summing loop (best distance) | best ÷ loop | PyTorch | best ÷ PyTorch | hostmem limit | limit ≥ every knob |")
print("|---|---|---|---|---|---|---|---|---|---|")
for dist, threads, dtype, knob, best, summing, distances, pytorch, limit, warned in rows:
    torch_text = f"{pytorch:.1f} | {best / pytorch:.2f}×" if pytorch else "- | -"
    print(f"| {dist} | {threads} | {dtype} | {knob} {best:.1f} | {summing:.1f} ({'/'.join(map(str, distances))}) | {best / summing:.2f}× | "
          f"{torch_text} | {limit:.1f} | {'yes' if warned == 0 else f'no: {warned} warning(s)'} |")
