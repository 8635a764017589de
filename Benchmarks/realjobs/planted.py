"""A training job written to plant one fault at a time (the prediction benchmark's planted
set, beside the jobs adapted from public code): each sample costs a per-sample transform
written in Python (--sample-ms of CPU, in the DataLoader's workers or in the loop with
--workers 0), and each step a small MLP's forward, backward and SGD update on the CPU
(--step-ms, roughly, spread over the intra-op threads). Which fault it pays comes from its
settings alone, as in a user's job: --workers 0 with one intra-op thread leaves a CPU idle
while the loop transforms (input-bound); --workers 4 with PyTorch's default threads on 2
CPUs oversubscribes; the benchmark puts it in a CPU quota for the throttled case."""
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import arguments, train  # noqa: E402


def spin(seconds):
    """A transform written in Python that costs `seconds` of CPU (about): numbers computed and kept."""
    values, end, i = [], time.thread_time() + seconds, 0
    while time.thread_time() < end:
        values.append(math.sin(i) * 0.5)
        i += 1
    return values


def main():
    parser = arguments("A job with a per-sample Python transform and a small MLP", workers=0, batch_size=16)
    parser.add_argument("--sample-ms", type=float, default=2.0, help="CPU ms of the per-sample transform")
    parser.add_argument("--width", type=int, default=1024, help="the MLP's hidden width (its step's cost)")
    parser.add_argument("--epoch-samples", type=int, default=1 << 20)
    args = parser.parse_args()
    import torch
    import torch.nn as nn

    sample_seconds = args.sample_ms / 1000

    class Samples(torch.utils.data.Dataset):
        def __len__(self):
            return args.epoch_samples

        def __getitem__(self, index):
            values = spin(sample_seconds)
            row = torch.tensor(values[:256] + [0.0] * max(0, 256 - len(values)), dtype=torch.float32)
            return row, index % 10

    model = nn.Sequential(nn.Linear(256, args.width), nn.ReLU(), nn.Linear(args.width, args.width), nn.ReLU(), nn.Linear(args.width, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    criterion = nn.CrossEntropyLoss()
    loader = torch.utils.data.DataLoader(Samples(), batch_size=args.batch_size, shuffle=True, num_workers=args.workers,
                                         persistent_workers=args.persistent and args.workers > 0)

    def make_iterator():
        return iter(loader)

    def step(batch):
        x, y = batch
        # A few passes over the batch: the step's cost, spread over the intra-op threads.
        for _ in range(4):
            optimizer.zero_grad()
            loss = criterion(model(x.repeat(8, 1)), y.repeat(8))
            loss.backward()
            optimizer.step()

    train(make_iterator, step, args)


if __name__ == "__main__":
    main()
