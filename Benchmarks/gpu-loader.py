#!/usr/bin/env python3
"""hostmem's loader into a CUDA GPU: pinned pool + non-blocking side-stream copies
(`Loader.to(device)`) against the same loader with pageable buffers and blocking copies,
and PyTorch's DataLoader(pin_memory=True) with non_blocking copies, in one run.

    python3 Benchmarks/gpu-loader.py [--rows 2000000] [--row-bytes 512] [--batch 256]
                                     [--workers 2] [--seconds 3] [--rounds 3] [--device cuda:0]

The data: a .npy of uint8 rows, memory-mapped, page cache warm. Each batch is used on the
GPU as a training step would (float, a 512-wide matmul, a sum), so copies can overlap
compute. Samples per second after 5 warm-up batches, over --seconds, the median of
--rounds rounds that alternate the three ways; torch.cuda.synchronize() before each clock
stop. Needs torch with CUDA, numpy, this checkout's libhostmem_c.so (release build).
"""
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_common import arguments, Rows, import_hostmem, np, torch  # noqa: E402

hostmem = import_hostmem()

parser = arguments(__doc__, embedding=False)
parser.add_argument("--workers", type=int, default=2)
parser.add_argument("--device", default="cuda:0")
args = parser.parse_args()

if not torch.cuda.is_available():
    sys.exit("torch sees no CUDA device: this benchmark needs a GPU (torch.cuda.is_available() is False)")
device = torch.device(args.device)
weight = torch.randn(args.row_bytes, 512, device=device)


def step(x):
    """A training step's use of the batch on the GPU (queued, not waited for)."""
    return (x.float() @ weight).sum()


def timed(batches):
    samples, start, total = 0, None, None
    for index, x in enumerate(batches):
        value = step(x)
        total = value if total is None else total + value
        if index == 5:
            torch.cuda.synchronize(device)
            start, samples = time.perf_counter(), 0
        samples += x.shape[0]
        if start and time.perf_counter() - start > args.seconds:
            break
    torch.cuda.synchronize(device)
    return samples / (time.perf_counter() - start)


def pinned_side_stream():
    loader = hostmem.Loader(path, batch_size=args.batch, workers=args.workers, rank=0, world_size=1)
    pinning.add(loader.pinning)
    return timed(loader.to(device, depth=2))


def pageable_blocking():
    loader = hostmem.Loader(path, batch_size=args.batch, workers=args.workers, rank=0, world_size=1, pin=False, tensors=True)
    return timed(x.to(device) for x in loader)


def torch_dataloader():
    loader = torch.utils.data.DataLoader(Rows(path, args.rows), batch_size=args.batch, shuffle=True, num_workers=args.workers,
                                         pin_memory=True, persistent_workers=args.workers > 0)
    return timed(x.to(device, non_blocking=True) for x in loader)


folder = tempfile.mkdtemp(prefix="hostmem-gpu-")
path = os.path.join(folder, "rows.npy")
np.save(path, np.random.default_rng(0).integers(0, 255, (args.rows, args.row_bytes), dtype=np.uint8))
np.load(path, mmap_mode="r")[::8].sum()  # the page cache warm for every side
pinning = set()
ways = {"hostmem Loader.to(device): pinned pool, non-blocking copies on a side stream": pinned_side_stream,
        "hostmem Loader, pageable buffers, blocking .to(device)": pageable_blocking,
        f"PyTorch DataLoader(num_workers={args.workers}, pin_memory=True), non_blocking .to(device)": torch_dataloader}
rounds = {name: [] for name in ways}
for _ in range(args.rounds):
    for name, way in ways.items():
        rounds[name].append(way())
print(f"torch {torch.__version__}, {torch.cuda.get_device_name(device)}, {len(os.sched_getaffinity(0))} CPUs; "
      f"{args.rows} rows of {args.row_bytes} B, batch {args.batch}, {args.workers} workers; hostmem pool: {', '.join(sorted(pinning))}")
medians = {name: statistics.median(values) for name, values in rounds.items()}
pinned_rate = medians[next(iter(ways))]
for name, rate in medians.items():
    print(f"  {name}: {rate:12.0f} samples/s ({rate * args.row_bytes / 1e9:.2f} GB/s), the first is {pinned_rate / rate:.2f}x this"
          if rate != pinned_rate else f"  {name}: {rate:12.0f} samples/s ({rate * args.row_bytes / 1e9:.2f} GB/s)")
print(f"  (medians of {args.rounds} rounds that alternate the three)")
os.remove(path)
os.rmdir(folder)
