#!/usr/bin/env python3
"""The Python package beside PyTorch, on the same data, batches and threads, in one run.

    python3 Benchmarks/compare-python.py [--rows 2000000] [--row-bytes 512] [--batch 256]
                                         [--table-rows 4194304] [--dim 128] [--bags 2048] [--pooling 32]

Loader: a .npy of uint8 rows, memory-mapped. PyTorch: a map-style Dataset whose
__getitem__ copies one row, DataLoader(batch_size, shuffle=True, num_workers=W), W = 0, 1, 2
(its best is the reference). hostmem: `for x in hostmem.Loader(path, batch_size)` touching
each batch (one byte of every row), and `hostmem loader` (the Swift loader alone) on the
same file, in --rounds alternating rounds (medians). Samples per second over about
--seconds after a warm-up.

Embedding bag: nn.EmbeddingBag(mode="sum") and hostmem.EmbeddingBag (fp32), and for 8-bit
row-wise tables torch.ops.quantized.embedding_bag_byte_rowwise_offsets against
hostmem.EmbeddingBag(dtype="int8"), with 1 and 2 threads (torch.set_num_threads and
threads=), uniform and Zipf(1.05) indices, the same index batches for both. M lookups per
second, medians of --rounds rounds that alternate PyTorch and hostmem, and hostmem's rate as
a share of the machine's random-row gather limit for the same table, indices and threads
(`hostmem embed --indices`: every row's lines read, nothing summed; with plain loads and
with prefetch).

Training (hostmem.nn.EmbeddingBag, tensors in and out): its forward alone against
nn.EmbeddingBag's (no grad), its backward alone (the weight gradient, sparse and dense,
beside the table's random-row gather limit from `hostmem embed`), and a training step (forward, backward, optimizer step; the
loss is the pooled rows times a fixed random tensor) against nn.EmbeddingBag(sparse=True)
with the same optimizer (SGD, and Adagrad, both sparse), each side on its own copy of the
same initial table, 1 and 2 threads, uniform and Zipf. hostmem's module puts its weight on
transparent huge pages (its default); torch's weight is as torch allocates it (4 KiB pages
here), and once more on huge pages ("torch+huge", through hostmem.nn.huge_pages) to show
the kernels side by side on the same pages. M lookups per second (bags x pooling per step),
medians of --rounds rounds that alternate the sides. Needs torch and numpy;
builds nothing (hostmem's release build and the Python package of this checkout).
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_common import arguments, HOSTMEM, Rows, import_hostmem, lookup_indices, np, torch  # noqa: E402

hostmem = import_hostmem()

args = arguments(__doc__).parse_args()

binary = HOSTMEM
folder = tempfile.mkdtemp(prefix="hostmem-python-")
print(f"torch {torch.__version__}, numpy {np.__version__}, {len(os.sched_getaffinity(0))} CPUs, library {hostmem.library_path}")


def timed(batches, count):
    """Samples per second over --seconds after 5 warm-up batches; `count` sizes a batch."""
    samples, start = 0, None
    for step, batch in enumerate(batches):
        if step == 5:
            start, samples = time.perf_counter(), 0
        samples += count(batch)
        if start and time.perf_counter() - start > args.seconds:
            break
    return samples / (time.perf_counter() - start)


def lookups_per_second(step, inputs):
    """M lookups per second of `step` over the batches `inputs` (each --bags × --pooling
    lookups), for --seconds after two warm-up calls."""
    per = args.bags * args.pooling
    for batch in inputs[:2]:
        step(batch)
    done, start, i = 0, time.perf_counter(), 0
    while time.perf_counter() - start < args.seconds:
        step(inputs[i % len(inputs)])
        done += per
        i += 1
    return done / (time.perf_counter() - start) / 1e6


def backward_lookups_per_second(bag, inputs, offsets, target):
    """M lookups per second of the backward pass alone (the weight gradient: coalesced rows
    for hostmem, one row per lookup for torch's sparse gradient, a dense table-sized
    gradient without sparse=True): each batch's forward runs untimed, then its backward is
    timed, for about --seconds after two warm-up batches."""
    per, spent, done, i = args.bags * args.pooling, 0.0, 0, 0
    while spent < args.seconds:
        bag.weight.grad = None
        loss = (bag(inputs[i % len(inputs)], offsets) * target).sum()
        start = time.perf_counter()
        loss.backward()
        elapsed = time.perf_counter() - start
        if i >= 2:
            spent, done = spent + elapsed, done + per
        i += 1
    bag.weight.grad = None
    return done / spent / 1e6


def touched(loader):
    """Each batch read (one byte of every row), as a training step would read it."""
    for x in loader:
        int(x[:, 0].sum())
        yield x


if not args.skip_loader:
    path = os.path.join(folder, "rows.npy")
    np.save(path, np.random.default_rng(0).integers(0, 255, (args.rows, args.row_bytes), dtype=np.uint8))
    np.load(path, mmap_mode="r")[::8].sum()  # the page cache warm for every side
    torch_rates = {w: timed(torch.utils.data.DataLoader(Rows(path, args.rows), batch_size=args.batch, shuffle=True, num_workers=w,
                                                        persistent_workers=w > 0), len) for w in (0, 1, 2)}
    # Rounds alternate the Python loop and the Swift loader, so a slow spell of this shared
    # machine hits both; each figure is the median over the rounds.
    rounds = []
    for _ in range(args.rounds):
        python = {w: timed(touched(hostmem.Loader(path, batch_size=args.batch, workers=w, rank=0, world_size=1)), len) for w in (1, 2)}
        report = json.loads(subprocess.run(
            [binary, "loader", "--data", path, "--batch", str(args.batch), "--workers", "1,2", "--sort", "off", "--advice", "normal",
             "--seconds", str(args.seconds), "--json"], check=True, capture_output=True, text=True).stdout)
        rounds.append((python, {r["setting"]["workers"]: r["samplesPerSecond"] for r in report["results"]}))
    python_rates = {w: statistics.median(r[0][w] for r in rounds) for w in (1, 2)}
    swift_rates = {w: statistics.median(r[1][w] for r in rounds) for w in (1, 2)}
    swift = max(swift_rates.values())
    best_torch, best_python = max(torch_rates.values()), max(python_rates.values())
    print(f"\nLoader: {args.rows} rows of {args.row_bytes} B, batch {args.batch}, samples/s")
    for workers, rate in torch_rates.items():
        print(f"  PyTorch DataLoader, num_workers={workers}:      {rate:12.0f}")
    for workers, rate in python_rates.items():
        print(f"  hostmem.Loader from Python, workers={workers}:  {rate:12.0f}")
    for workers, rate in swift_rates.items():
        print(f"  hostmem loader (Swift alone), workers={workers}: {rate:12.0f}")
    print(f"  (hostmem figures: medians of {args.rounds} rounds alternating Python and Swift)")
    per_batch = (1 / best_python - 1 / swift) * args.batch * 1e6
    same = {w: python_rates[w] / swift_rates[w] for w in (1, 2)}
    print(f"  Python loop / DataLoader best: {best_python / best_torch:.1f}x; Python loop / Swift loader: best / best {best_python / swift:.0%}, "
          f"same workers {same[1]:.0%} (1), {same[2]:.0%} (2); Python's cost per batch (best vs best): {per_batch:.0f} µs")
    os.remove(path)

if not args.skip_embedding:
    weight = torch.rand(args.table_rows, args.dim) * 2 - 1
    module = torch.nn.EmbeddingBag(args.table_rows, args.dim, mode="sum", _weight=weight)
    packed = torch.ops.quantized.embedding_bag_byte_prepack(weight)
    table = weight.numpy()
    bags = {(dtype, threads): hostmem.EmbeddingBag(table, dtype=dtype, threads=threads) for dtype in ("float32", "int8") for threads in (1, 2)}
    offsets = torch.arange(0, args.bags * args.pooling, args.pooling, dtype=torch.int64)
    offsets_numpy = offsets.numpy()
    per = args.bags * args.pooling
    rng = np.random.default_rng(3)
    print("  prefetch style chosen by each bag: " + ", ".join(f"{d} {t}T {b.prefetch_style}" for (d, t), b in bags.items()))
    print(f"\nEmbedding bag: {args.table_rows} x {args.dim} ({args.table_rows * args.dim * 4 >> 20} MiB fp32), batch {args.bags} x "
          f"pooling {args.pooling}, sum, M lookups/s, medians of {args.rounds} rounds")
    for dist in ("uniform", "zipf:1.05"):
        indices = lookup_indices(dist, args.table_rows, 8 * per, rng)
        batches = [indices[i * per:(i + 1) * per] for i in range(8)]
        tensors = [torch.from_numpy(b) for b in batches]
        indices_path = os.path.join(folder, "indices.npy")
        np.save(indices_path, indices)

        for threads in (1, 2):
            torch.set_num_threads(threads)
            rounds = []
            for _ in range(args.rounds):
                with torch.no_grad():
                    figures = {"torch fp32": lookups_per_second(lambda b: module(b, offsets), tensors),
                               "torch int8": lookups_per_second(lambda b: torch.ops.quantized.embedding_bag_byte_rowwise_offsets(packed, b, offsets, False, 0), tensors)}
                figures["hostmem fp32"] = lookups_per_second(lambda b: bags[("float32", threads)](b, offsets_numpy), batches)
                figures["hostmem int8"] = lookups_per_second(lambda b: bags[("int8", threads)](b, offsets_numpy), batches)
                rounds.append(figures)
            result = {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}
            report = json.loads(subprocess.run(
                [binary, "embed", "--rows", str(args.table_rows), "--dim", str(args.dim), "--batch", str(args.bags), "--pooling", str(args.pooling),
                 "--indices", indices_path, "--threads", str(threads), "--knobs", "plain", "--seconds", "1", "--json"],
                check=True, capture_output=True, text=True).stdout)
            limits = {limit["storage"]: limit for limit in report["gatherLimits"]}
            shares = []
            for name, storage in (("fp32", "float32"), ("int8", "int8RowWise")):
                plain, prefetched = limits[storage]["lookupsPerSecond"] / 1e6, limits[storage]["prefetchedLookupsPerSecond"] / 1e6
                mine = result["hostmem " + name]
                shares.append(f"{name} {mine / plain:.0%} of the plain-load gather ({plain:.1f} M), {mine / prefetched:.0%} of the prefetched one ({prefetched:.1f} M)")
            shares = "; ".join(shares)
            print(f"  {dist}, {threads} thread{'s' if threads > 1 else ''}: " + ", ".join(f"{k} {v:.1f}" for k, v in result.items())
                  + f" | fp32 {result['hostmem fp32'] / result['torch fp32']:.2f}x, int8 {result['hostmem int8'] / result['torch int8']:.2f}x PyTorch"
                  + f"\n    hostmem: {shares}")
        os.remove(indices_path)

if not args.skip_training:
    import hostmem.nn as hnn

    torch.manual_seed(0)
    initial = torch.rand(args.table_rows, args.dim) * 2 - 1
    per = args.bags * args.pooling
    offsets = torch.arange(0, per, args.pooling, dtype=torch.int64)
    target = torch.randn(args.bags, args.dim)
    rng = np.random.default_rng(5)
    print(f"\nhostmem.nn.EmbeddingBag against nn.EmbeddingBag: {args.table_rows} x {args.dim} fp32, batch {args.bags} x pooling "
          f"{args.pooling}, sum, M lookups/s, medians of {args.rounds} alternating rounds")

    def training_step(bag, optimizer):
        def step(indices):
            optimizer.zero_grad(set_to_none=True)
            (bag(indices, offsets) * target).sum().backward()
            optimizer.step()
        return step

    for dist in ("uniform", "zipf:1.05"):
        batches = [torch.from_numpy(lookup_indices(dist, args.table_rows, per, rng)) for _ in range(8)]
        for threads in (1, 2):
            torch.set_num_threads(threads)
            sides = {"torch": torch.nn.EmbeddingBag(args.table_rows, args.dim, mode="sum", sparse=True, _weight=initial.clone()),
                     "torch+huge": torch.nn.EmbeddingBag(args.table_rows, args.dim, mode="sum", sparse=True, _weight=initial.clone()),
                     "hostmem": hnn.EmbeddingBag(args.table_rows, args.dim, mode="sum", sparse=True, _weight=initial.clone())}
            hnn.huge_pages(sides["torch+huge"].weight.detach())
            dense = {"torch": torch.nn.EmbeddingBag(args.table_rows, args.dim, mode="sum", _weight=initial.clone()),
                     "hostmem": hnn.EmbeddingBag(args.table_rows, args.dim, mode="sum", _weight=initial.clone())}
            indices_path = os.path.join(folder, "training-indices.npy")
            np.save(indices_path, torch.cat(batches).numpy())
            limit_report = json.loads(subprocess.run(
                [binary, "embed", "--rows", str(args.table_rows), "--dim", str(args.dim), "--batch", str(args.bags), "--pooling", str(args.pooling),
                 "--indices", indices_path, "--threads", str(threads), "--knobs", "plain", "--seconds", "1", "--json"],
                check=True, capture_output=True, text=True).stdout)
            os.remove(indices_path)
            gather = [limit for limit in limit_report["gatherLimits"] if limit["storage"] == "float32"][0]
            gather_limit = max(gather["lookupsPerSecond"], gather["prefetchedLookupsPerSecond"]) / 1e6
            rounds = []
            for _ in range(args.rounds):
                figures = {}
                for name, bag in sides.items():
                    with torch.no_grad():
                        figures[f"forward {name}"] = lookups_per_second(lambda b: bag(b, offsets), batches)
                for name in ("torch", "hostmem"):
                    figures[f"backward sparse {name}"] = backward_lookups_per_second(sides[name], batches, offsets, target)
                    figures[f"backward dense {name}"] = backward_lookups_per_second(dense[name], batches, offsets, target)
                for optimizer in ("SGD", "Adagrad"):
                    for name, bag in sides.items():
                        make = torch.optim.SGD if optimizer == "SGD" else torch.optim.Adagrad
                        figures[f"{optimizer} {name}"] = lookups_per_second(training_step(bag, make(bag.parameters(), lr=0.01)), batches)
                rounds.append(figures)
            result = {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}
            ratios = ", ".join(f"{what} {result[what + ' hostmem'] / result[what + ' torch']:.2f}x "
                               f"({result[what + ' hostmem'] / result[what + ' torch+huge']:.2f}x)" for what in ("forward", "SGD", "Adagrad"))
            print(f"  {dist}, {threads} thread{'s' if threads > 1 else ''} (hostmem: prefetch {sides['hostmem'].prefetch} "
                  f"{sides['hostmem'].prefetch_style}, {sides['hostmem'].huge_pages_state}):\n    "
                  + ", ".join(f"{k} {v:.2f}" for k, v in result.items())
                  + f"\n    hostmem / torch (/ torch+huge): {ratios}"
                  + f"\n    backward, hostmem / torch: sparse {result['backward sparse hostmem'] / result['backward sparse torch']:.2f}x, "
                  f"dense {result['backward dense hostmem'] / result['backward dense torch']:.2f}x; against the table's gather limit "
                  f"({gather_limit:.1f} M lookups/s): sparse {result['backward sparse hostmem'] / gather_limit:.0%}, "
                  f"dense {result['backward dense hostmem'] / gather_limit:.0%}")
            del sides, dense
os.rmdir(folder)
