"""Per-sample fetching: a forked worker builds each batch with one __getitem__ call per
sample (as DataLoader's fetcher does without __getitems__) and hands it over a queue to
a main loop that waits for it."""
from common import remaining, take_batches_from_worker


class Rows:
    def __init__(self):
        self.rows = [bytes(range(256)) * 16] * 1_000

    def __getitem__(self, index):
        return sum(self.rows[index])  # per-sample work in Python, like a decode and a tensor per sample


def fetch(dataset, indices):
    return [dataset[i] for i in indices]


def worker(batches):
    dataset = Rows()
    position = 0
    while remaining() > 0.3:
        batches.put(len(fetch(dataset, range(position, position + 256))))
        position = (position + 256) % 744


if __name__ == "__main__":
    take_batches_from_worker(worker)
