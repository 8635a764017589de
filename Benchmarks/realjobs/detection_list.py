"""The data path of detectron2's training loader (detectron2/data/common.py
DatasetFromList and MapDataset, dataset_mapper.py): the dataset is a Python list of
per-image dicts (file name, size, annotations with boxes and polygons), each worker maps
a dict into tensors. With serialize off (DatasetFromList(..., serialize=False), and every
loader written this way) forked workers read the parent's dicts and copy them page by
page (copy-on-read); detectron2's default serializes the list into one numpy buffer of
pickles. Adapted offline: synthetic records, a fake image per record and a small model.
Upstream: github.com/facebookresearch/detectron2 detectron2/data/common.py."""
import copy
import os
import pickle
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import arguments, train  # noqa: E402


def records(count):
    rng = random.Random(0)
    out = []
    for i in range(count):
        annotations = []
        for _ in range(rng.randrange(1, 6)):
            x, y = rng.uniform(0, 600), rng.uniform(0, 400)
            annotations.append({"bbox": [x, y, rng.uniform(10, 200), rng.uniform(10, 200)], "bbox_mode": 1,
                                "category_id": rng.randrange(80), "iscrowd": 0,
                                "segmentation": [[rng.uniform(0, 640) for _ in range(16)]]})
        out.append({"file_name": f"/datasets/coco/train2017/{i:012d}.jpg", "image_id": i, "height": 480, "width": 640,
                    "annotations": annotations})
    return out


class Serialized:
    """The list as one buffer of pickles and their end offsets (numpy): nothing for a
    forked worker's reads to write, so its pages stay shared."""

    def __init__(self, items):
        import numpy as np
        blobs = [pickle.dumps(item, protocol=-1) for item in items]
        self.ends = np.cumsum([len(b) for b in blobs])
        self.buffer = np.frombuffer(b"".join(blobs), dtype=np.uint8)

    def __len__(self):
        return len(self.ends)

    def __getitem__(self, index):
        start = 0 if index == 0 else int(self.ends[index - 1])
        return pickle.loads(memoryview(self.buffer[start:int(self.ends[index])]))


def main():
    parser = arguments("list-of-dicts detection dataset with fork workers", workers=2, batch_size=16)
    parser.add_argument("--records", type=int, default=600_000)
    parser.add_argument("--serialize", action="store_true", help="the fix: one numpy buffer of pickles")
    args = parser.parse_args()
    import torch
    import torch.nn as nn

    items = records(args.records)
    listed = Serialized(items) if args.serialize else items
    if args.serialize:
        del items

    class Mapped(torch.utils.data.Dataset):
        def __len__(self):
            return len(listed)

        def __getitem__(self, index):
            record = listed[index] if args.serialize else copy.deepcopy(listed[index])
            image = torch.zeros(3, 64, 64, dtype=torch.uint8)  # the decoded image, kept small
            boxes = torch.tensor([a["bbox"] for a in record["annotations"]], dtype=torch.float32)
            return image, boxes

    def collate(batch):
        return torch.stack([b[0] for b in batch]), [b[1] for b in batch]

    model = nn.Sequential(nn.Conv2d(3, 16, 3, stride=2), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 4))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

    # One DataLoader, iterated once per epoch (persistent workers live across epochs).
    loader = torch.utils.data.DataLoader(Mapped(), batch_size=args.batch_size, shuffle=True, num_workers=args.workers,
                                                collate_fn=collate, persistent_workers=args.persistent and args.workers > 0)

    def make_iterator():
        return iter(loader)

    def step(batch):
        images, boxes = batch
        out = model(images.float())
        loss = out.pow(2).mean() + sum(b.sum() for b in boxes) * 0
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    train(make_iterator, step, args)


if __name__ == "__main__":
    main()
