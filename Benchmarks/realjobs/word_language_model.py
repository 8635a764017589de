"""pytorch/examples word_language_model (main.py, data.py): a corpus tokenized once into
one tensor of word ids, batchify into columns, get_batch slices bptt=35 rows, a 2-layer
LSTM (emsize 200, nhid 200) trained with truncated backpropagation. No DataLoader: the
batches are slices of a tensor in memory. Adapted offline: a synthetic corpus of 1 M
words with a Zipf-like vocabulary of 10 000. Upstream: github.com/pytorch/examples
word_language_model. A healthy job: nothing to fix on the host side."""
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import arguments, train  # noqa: E402


def main():
    parser = arguments("word-level LSTM language model", workers=0, batch_size=20)
    parser.add_argument("--bptt", type=int, default=35)
    args = parser.parse_args()
    import torch
    import torch.nn as nn

    rng = random.Random(0)
    vocabulary = [f"w{i}" for i in range(10_000)]
    weights = [1.0 / (i + 1) for i in range(len(vocabulary))]
    lines = [" ".join(rng.choices(vocabulary, weights, k=20)) for _ in range(50_000)]
    index = {}
    ids = []
    for line in lines:
        for word in line.split() + ["<eos>"]:
            ids.append(index.setdefault(word, len(index)))
    data = torch.tensor(ids, dtype=torch.int64)
    columns = data.size(0) // args.batch_size
    data = data[:columns * args.batch_size].view(args.batch_size, -1).t().contiguous()

    class RNNModel(nn.Module):
        def __init__(self, tokens, size=200, layers=2):
            super().__init__()
            self.encoder = nn.Embedding(tokens, size)
            self.rnn = nn.LSTM(size, size, layers, dropout=0.2)
            self.decoder = nn.Linear(size, tokens)

        def forward(self, x, hidden):
            output, hidden = self.rnn(self.encoder(x), hidden)
            return self.decoder(output), hidden

    model = RNNModel(len(index))
    criterion = nn.CrossEntropyLoss()
    state = {"hidden": None}

    def make_iterator():
        def batches():
            for i in range(0, data.size(0) - 1, args.bptt):
                length = min(args.bptt, data.size(0) - 1 - i)
                yield data[i:i + length], data[i + 1:i + 1 + length].reshape(-1)
        state["hidden"] = None
        return batches()

    def step(batch):
        source, target = batch
        hidden = state["hidden"]
        if hidden is not None:
            hidden = tuple(h.detach() for h in hidden)
        model.zero_grad()
        output, hidden = model(source, hidden)
        loss = criterion(output.view(-1, output.size(-1)), target)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.25)
        with torch.no_grad():
            for p in model.parameters():
                p.add_(p.grad, alpha=-20)
        state["hidden"] = hidden

    train(make_iterator, step, args)


if __name__ == "__main__":
    main()
