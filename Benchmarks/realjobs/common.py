"""Shared by the real-job set: synthetic data folders, a timed training loop that
reports steps/s and the loop's wait for data, and the workers' memory.

Each job prints one JSON line: steps_per_second (median of 1 s buckets after the
warm-up is not used: steps / seconds over the measured part, the unit is training
steps per second), data_wait_share (the share of the measured time the loop spent
in next(loader)), and, with --memory, the workers' Private_Dirty and RSS at the end."""
import argparse
import json
import os
import sys
import time


def folder(name):
    """A cache folder for generated data (HOSTMEM_REALJOBS_DIR, else /tmp/hostmem-realjobs)."""
    root = os.environ.get("HOSTMEM_REALJOBS_DIR", "/tmp/hostmem-realjobs")
    path = os.path.join(root, name)
    os.makedirs(path, exist_ok=True)
    return path


def arguments(description, workers, threads=None, batch_size=32):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds, after --warmup")
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--workers", type=int, default=workers, help="DataLoader num_workers")
    parser.add_argument("--threads", type=int, default=threads, help="torch.set_num_threads in the main process (default: PyTorch's)")
    parser.add_argument("--batch-size", type=int, default=batch_size)
    parser.add_argument("--persistent", action="store_true", help="persistent_workers=True")
    parser.add_argument("--memory", action="store_true", help="report the workers' memory at the end")
    parser.add_argument("--forever", action="store_true", help="run until killed (for hostmem doctor --pid)")
    return parser


def smaps_rollup(pid):
    """Private_Dirty and Rss of a process, in bytes."""
    values = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 3 and parts[0] in ("Rss:", "Private_Dirty:", "Pss:"):
                values[parts[0][:-1]] = int(parts[1]) * 1024
    return values


def children_memory():
    """The memory of this process's children (the DataLoader's workers)."""
    me = os.getpid()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[1]) == me:
                found.append(smaps_rollup(int(entry)))
        except (OSError, ValueError, IndexError):
            continue
    return found


def train(make_iterator, step, args, extra=None):
    """Runs `step(batch)` on batches from `make_iterator()` (made again at each epoch's
    end) for --warmup then --seconds, and prints the measured figures as JSON."""
    import torch
    if args.threads:
        torch.set_num_threads(args.threads)
    start = time.monotonic()
    measured_from = start + args.warmup
    end = measured_from + args.seconds
    steps = 0
    waited = 0.0
    iterator = make_iterator()
    measuring = False
    while args.forever or time.monotonic() < end:
        before = time.monotonic()
        if not measuring and before >= measured_from:
            measuring = True
            steps, waited, measured_from = 0, 0.0, before
        try:
            batch = next(iterator)
        except StopIteration:
            iterator = make_iterator()
            continue
        got = time.monotonic()
        step(batch)
        if measuring:
            steps += 1
            waited += got - before
    seconds = time.monotonic() - measured_from
    result = {"steps_per_second": steps / seconds, "data_wait_share": waited / seconds, "steps": steps,
              "seconds": round(seconds, 2), "workers": args.workers, "threads": torch.get_num_threads()}
    if args.memory:
        memory = children_memory()
        result["worker_private_dirty_mib"] = [round(m.get("Private_Dirty", 0) / 2**20) for m in memory]
        result["worker_rss_mib"] = [round(m.get("Rss", 0) / 2**20) for m in memory]
    if extra:
        result.update(extra)
    print(json.dumps(result), flush=True)
    sys.stdout.flush()
    os._exit(0)  # do not wait for worker shutdown in the measurement
