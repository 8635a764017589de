"""num_workers=0: the training loop builds each batch itself, one __getitem__ per sample
(as DataLoader's _SingleProcessDataLoaderIter does), then takes a short step. Nothing
waits on a queue: without Python stacks, /proc shows one busy process and nothing more."""
from common import remaining


class Rows:
    def __init__(self):
        self.rows = [bytes(range(256)) * 16] * 1_000

    def __getitem__(self, index):
        return sum(self.rows[index % 1000])  # per-sample work in Python


def fetch(dataset, indices):
    return [dataset[i] for i in indices]


def _next_data(dataset, position):
    return fetch(dataset, range(position, position + 256))


if __name__ == "__main__":
    dataset = Rows()
    position = 0
    while remaining() > 0:
        batch = _next_data(dataset, position)
        position += 256
        sum(range(2000))  # the "training step" is short
