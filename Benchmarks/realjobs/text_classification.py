"""The data path of PyTorch's text classification tutorial (pytorch/tutorials
beginner_source/text_sentiment_ngrams_tutorial.py): raw (label, text) pairs, a
tokenizer and a vocabulary lookup per sample in the DataLoader's collate_batch, the
tokens of a batch concatenated with offsets, an nn.EmbeddingBag + Linear model. Adapted
offline: synthetic news-like sentences and a basic-English tokenizer written here
(lower-casing, punctuation split) in place of torchtext's. Upstream:
github.com/pytorch/tutorials beginner_source/text_sentiment_ngrams_tutorial.py."""
import os
import random
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import arguments, train  # noqa: E402

_patterns = [(re.compile(r"\'"), " '  "), (re.compile(r"\""), ""), (re.compile(r"\."), " . "), (re.compile(r"<br \/>"), " "),
             (re.compile(r","), " , "), (re.compile(r"\("), " ( "), (re.compile(r"\)"), " ) "), (re.compile(r"\!"), " ! "),
             (re.compile(r"\?"), " ? "), (re.compile(r"\;"), " "), (re.compile(r"\:"), " "), (re.compile(r"\s+"), " ")]


def basic_english(line):
    line = line.lower()
    for pattern, replacement in _patterns:
        line = pattern.sub(replacement, line)
    return line.split()


def main():
    parser = arguments("EmbeddingBag text classifier, tokenized per sample in collate", workers=0, batch_size=64)
    args = parser.parse_args()
    import torch
    import torch.nn as nn

    rng = random.Random(0)
    words = [f"Word{i}" for i in range(20_000)]
    rows = [(rng.randrange(4), " ".join(rng.choices(words, k=rng.randrange(20, 60))) + ", said (Reuters).") for _ in range(120_000)]
    vocab = {}
    for _, text in rows[:20_000]:
        for token in basic_english(text):
            vocab.setdefault(token, len(vocab))
    unknown = len(vocab)

    class Rows(torch.utils.data.Dataset):
        def __len__(self):
            return len(rows)

        def __getitem__(self, index):
            return rows[index]

    def collate_batch(batch):
        labels, texts, offsets = [], [], [0]
        for label, text in batch:
            labels.append(label)
            ids = torch.tensor([vocab.get(t, unknown) for t in basic_english(text)], dtype=torch.int64)
            texts.append(ids)
            offsets.append(ids.size(0))
        return torch.tensor(labels), torch.cat(texts), torch.tensor(offsets[:-1]).cumsum(dim=0)

    class Classifier(nn.Module):
        def __init__(self, tokens, dim=64, classes=4):
            super().__init__()
            self.embedding = nn.EmbeddingBag(tokens, dim)
            self.fc = nn.Linear(dim, classes)

        def forward(self, text, offsets):
            return self.fc(self.embedding(text, offsets))

    model = Classifier(unknown + 1)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=5)

    # One DataLoader, iterated once per epoch (persistent workers live across epochs).
    loader = torch.utils.data.DataLoader(Rows(), batch_size=args.batch_size, shuffle=True, num_workers=args.workers,
                                                collate_fn=collate_batch, persistent_workers=args.persistent and args.workers > 0)

    def make_iterator():
        return iter(loader)

    def step(batch):
        label, text, offsets = batch
        optimizer.zero_grad()
        loss = criterion(model(text, offsets), label)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.1)
        optimizer.step()

    train(make_iterator, step, args)


if __name__ == "__main__":
    main()
