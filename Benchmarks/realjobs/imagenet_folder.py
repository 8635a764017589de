"""The data path of pytorch/examples imagenet/main.py (ImageFolder of JPEGs,
RandomResizedCrop(224), RandomHorizontalFlip, ToTensor, Normalize, a shuffled
DataLoader with -j workers, default 4), adapted to 2 CPUs and offline: 1000 synthetic
JPEGs in 10 class folders, and a small CNN in place of ResNet-18 so a step takes tens
of milliseconds on a CPU. Upstream: github.com/pytorch/examples imagenet/main.py."""
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import arguments, folder, train  # noqa: E402


def make_images(root, classes=10, per_class=100):
    """JPEGs of 320×240 made from smooth random colour fields plus noise (they compress
    and decode like photographs, not like flat colour)."""
    from PIL import Image
    if os.path.exists(os.path.join(root, ".complete")):
        return
    rng = random.Random(0)
    for c in range(classes):
        os.makedirs(os.path.join(root, f"class{c}"), exist_ok=True)
        for i in range(per_class):
            small = Image.new("RGB", (16, 12))
            small.putdata([(rng.randrange(256), rng.randrange(256), rng.randrange(256)) for _ in range(16 * 12)])
            image = small.resize((320, 240), Image.BICUBIC)
            noise = Image.effect_noise((320, 240), 24).convert("RGB")
            Image.blend(image, noise, 0.25).save(os.path.join(root, f"class{c}", f"{i}.jpg"), quality=90)
    open(os.path.join(root, ".complete"), "w").close()


def main():
    parser = arguments("ImageFolder + torchvision transforms + small CNN", workers=4)
    parser.add_argument("--width", type=int, default=16, help="channels of the CNN's first layer")
    parser.add_argument("--uint8", action="store_true",
                        help="the fix for a loader that moves floats: workers hand over uint8 images (PILToTensor), the loop converts and normalizes")
    parser.add_argument("--epoch-images", type=int, default=0, help="images per epoch (a subset; 0: all 1000)")
    args = parser.parse_args()
    import torch
    import torch.nn as nn
    import torchvision.datasets as datasets
    import torchvision.transforms as transforms

    root = folder("imagenet")
    make_images(root)
    normalize = transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])
    if args.uint8:
        dataset = datasets.ImageFolder(root, transforms.Compose([
            transforms.RandomResizedCrop(224), transforms.RandomHorizontalFlip(), transforms.PILToTensor()]))
    else:
        dataset = datasets.ImageFolder(root, transforms.Compose([
            transforms.RandomResizedCrop(224), transforms.RandomHorizontalFlip(), transforms.ToTensor(), normalize]))
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1) * 255
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1) * 255
    if args.epoch_images:
        dataset = torch.utils.data.Subset(dataset, list(range(args.epoch_images)))
    w = args.width
    model = nn.Sequential(
        nn.Conv2d(3, w, 5, stride=2, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(w, 2 * w, 3, stride=2, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(2 * w, 4 * w, 3, stride=2, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
        nn.Flatten(), nn.Linear(4 * w, 10))
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    # One DataLoader, iterated once per epoch (persistent workers live across epochs).
    loader = torch.utils.data.DataLoader(dataset, batch_size=args.batch_size, shuffle=True, num_workers=args.workers,
                                         persistent_workers=args.persistent and args.workers > 0)

    def make_iterator():
        return iter(loader)

    def step(batch):
        images, target = batch
        if args.uint8:
            images = (images.float() - mean) / std
        loss = criterion(model(images), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    train(make_iterator, step, args)


if __name__ == "__main__":
    main()
