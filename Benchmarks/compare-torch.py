#!/usr/bin/env python3
"""hostmem's loader and embedding bag beside PyTorch's, on the same data and core count.

    python3 Benchmarks/compare-torch.py [--rows 2000000] [--row-bytes 512] [--batch 256]
                                        [--table-rows 4194304] [--dim 128] [--bags 2048] [--pooling 32]

Loader: a .npy of uint8 rows memory-mapped by both. PyTorch: a map-style Dataset whose
__getitem__ copies one row (np.array(data[i])), DataLoader(batch_size, shuffle=True,
num_workers=W) for W = 0, 1, 2. hostmem: `hostmem loader` with 1 and 2 workers (its best).
Embedding bag: nn.EmbeddingBag(rows, dim, mode="sum") on CPU with torch.set_num_threads(1),
and torch.ops.quantized.embedding_bag_byte_rowwise_offsets on the 8-bit row-wise prepacked
table (FBGEMM's layout, the one hostmem uses), against `hostmem embed --threads 1` on the
same index batches (uniform and zipf:1.05, saved to a .npy that both read). Samples or
lookups per second, after a warm-up, for about 3 s per setting; the embedding figures are
medians of --rounds rounds that alternate PyTorch and hostmem. Installs nothing.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_common import arguments, HOSTMEM, ROOT, Rows, lookup_indices, np, torch  # noqa: E402

args = arguments(__doc__).parse_args()

hostmem = HOSTMEM
if not os.access(hostmem, os.X_OK):
    sys.exit(f"hostmem not built: run 'swift build -c release' in {ROOT}")
folder = tempfile.mkdtemp(prefix="hostmem-torch-")
print(f"torch {torch.__version__}, numpy {np.__version__}, {os.cpu_count()} CPUs")


def loader_rate(workers, path):
    loader = torch.utils.data.DataLoader(Rows(path, args.rows), batch_size=args.batch, shuffle=True, num_workers=workers,
                                         persistent_workers=workers > 0)
    samples, start = 0, None
    for step, batch in enumerate(loader):
        if step == 5:
            start, samples = time.perf_counter(), 0
        samples += len(batch)
        if start and time.perf_counter() - start > args.seconds:
            break
    return samples / (time.perf_counter() - start)


if not args.skip_loader:
    path = os.path.join(folder, "rows.npy")
    np.save(path, np.random.default_rng(0).integers(0, 255, (args.rows, args.row_bytes), dtype=np.uint8))
    np.load(path, mmap_mode="r")[::8].sum()  # page cache warm for both
    torch_rates = {w: loader_rate(w, path) for w in (0, 1, 2)}
    report = json.loads(subprocess.run(
        [hostmem, "loader", "--data", path, "--batch", str(args.batch), "--workers", "1,2", "--sort", "off",
         "--advice", "normal", "--seconds", str(args.seconds), "--json"], check=True, capture_output=True, text=True).stdout)
    best = max(report["results"], key=lambda r: r["samplesPerSecond"])
    best_torch = max(torch_rates.values())
    print(f"\nLoader: {args.rows} rows of {args.row_bytes} B, batch {args.batch}, samples/s")
    for workers, rate in torch_rates.items():
        print(f"  PyTorch DataLoader, num_workers={workers}: {rate:12.0f}")
    for result in report["results"]:
        print(f"  hostmem loader, {result['setting']['workers']} workers:   {result['samplesPerSecond']:12.0f}")
    print(f"  hostmem best / PyTorch best: {best['samplesPerSecond'] / best_torch:.1f}x; "
          f"hostmem at {best['samplesPerSecond'] / report['rowGatherLimit']:.0%} of the row-gather limit ({report['rowGatherLimit']:.0f} rows/s, plain loads), "
          f"{best['samplesPerSecond'] / report['rowGatherPrefetched']:.0%} of the gather with software prefetch ({report['rowGatherPrefetched']:.0f} rows/s)")
    os.remove(path)

if not args.skip_embedding:
    torch.set_num_threads(1)
    weight = torch.rand(args.table_rows, args.dim) * 2 - 1
    bag = torch.nn.EmbeddingBag(args.table_rows, args.dim, mode="sum", _weight=weight)
    packed = torch.ops.quantized.embedding_bag_byte_prepack(weight)
    offsets = torch.arange(0, args.bags * args.pooling, args.pooling, dtype=torch.int64)
    rng = np.random.default_rng(3)
    print(f"\nEmbedding bag: {args.table_rows} x {args.dim}, batch {args.bags} x pooling {args.pooling}, sum, 1 thread, "
          f"M lookups/s, medians of {args.rounds} rounds")
    for dist in ("uniform", "zipf:1.05"):
        per = args.bags * args.pooling
        indices = lookup_indices(dist, args.table_rows, 8 * per, rng)
        index_path = os.path.join(folder, "indices.npy")
        np.save(index_path, indices)
        batches = [torch.from_numpy(indices[i * per:(i + 1) * per]) for i in range(8)]

        def rate(call):
            for b in batches[:2]:
                call(b)
            done, start, i = 0, time.perf_counter(), 0
            while time.perf_counter() - start < args.seconds:
                call(batches[i % 8])
                done += per
                i += 1
            return done / (time.perf_counter() - start) / 1e6

        # Rounds alternate PyTorch and hostmem, so a slow spell of this shared machine
        # hits both; each figure is the median over the rounds.
        rounds = []
        for _ in range(args.rounds):
            with torch.no_grad():
                fp32 = rate(lambda b: bag(b, offsets))
                int8 = rate(lambda b: torch.ops.quantized.embedding_bag_byte_rowwise_offsets(packed, b, offsets, False, 0))
            report = json.loads(subprocess.run(
                [hostmem, "embed", "--rows", str(args.table_rows), "--dim", str(args.dim), "--batch", str(args.bags),
                 "--pooling", str(args.pooling), "--indices", index_path, "--threads", "1", "--seconds", str(args.seconds), "--json"],
                check=True, capture_output=True, text=True).stdout)
            figures = {("torch", "fp32"): fp32, ("torch", "int8"): int8}
            figures.update({(r["storage"], r["knob"]): r["lookupsPerSecond"] / 1e6 for r in report["results"]})
            rounds.append(figures)
        results = {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}
        fp32, int8 = results.pop(("torch", "fp32")), results.pop(("torch", "int8"))
        best32 = max(v for (s, _), v in results.items() if s == "float32")
        best8 = max(v for (s, _), v in results.items() if s == "int8RowWise")
        print(f"  {dist}: PyTorch fp32 {fp32:.1f}, int8 {int8:.1f} | hostmem fp32 " +
              ", ".join(f"{k} {v:.1f}" for (s, k), v in results.items() if s == "float32") + " | int8 " +
              ", ".join(f"{k} {v:.1f}" for (s, k), v in results.items() if s == "int8RowWise"))
        print(f"    hostmem best fp32 / PyTorch fp32: {best32 / fp32:.2f}x; hostmem best int8 / PyTorch int8: {best8 / int8:.2f}x; "
              f"hostmem int8 / fp32 (best): {best8 / best32:.2f}x; "
              f"dedup / plain: fp32 {results[('float32', 'dedup')] / results[('float32', 'plain')]:.2f}x, "
              f"int8 {results[('int8RowWise', 'dedup')] / results[('int8RowWise', 'plain')]:.2f}x; "
              f"sort+dedup / plain: fp32 {results[('float32', 'sort+dedup')] / results[('float32', 'plain')]:.2f}x, "
              f"int8 {results[('int8RowWise', 'sort+dedup')] / results[('int8RowWise', 'plain')]:.2f}x")
        os.remove(index_path)
os.rmdir(folder)
