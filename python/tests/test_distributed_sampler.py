"""hostmem.Loader's rank/world_size against torch's DistributedSampler under a DataLoader.

Cases re-written from PyTorch's own tests (pytorch/pytorch test/test_dataloader.py:
test_distributed_sampler_invalid_rank, test_duplicating_data_with_drop_last,
test_sampler_reproducibility's DistributedSampler part; test/distributed/distributed_test.py:
test_DistributedSampler_padding), with torch as the reference where installed. Without
shuffling the order is DistributedSampler's exactly (padding by repeating the start, or with
sampler_drop_last the tail left out), so each rank's samples are compared one by one; with
shuffling (hostmem's own generator, not torch's) the sets and counts are. Deliberately
different: a rank left with no sample (sampler_drop_last with fewer records than ranks) is
refused where torch iterates nothing."""
import itertools
import math

import numpy as np
import pytest

from hostmem import HostMemValueError, Loader

try:
    import torch
    from torch.utils.data import DataLoader
    from torch.utils.data.distributed import DistributedSampler
except ImportError:  # the properties alone
    torch = None


def dataset(tmp_path, size):
    """`size` records of 4 int32 (record i is i, i, i, i) and int64 labels i: a batch's labels are its indices."""
    np.save(tmp_path / "x.npy", np.repeat(np.arange(size, dtype=np.int32)[:, None], 4, axis=1))
    np.save(tmp_path / "y.npy", np.arange(size, dtype=np.int64))
    return str(tmp_path / "x.npy"), str(tmp_path / "y.npy")


def rank_batches(paths, **options):
    """Each batch's indices (its labels) for one rank, one epoch."""
    x_path, y_path = paths
    batches = []
    for x, y in Loader(x_path, labels=y_path, workers=2, **options):
        assert (x == y[:, None]).all()  # each record is its own index
        batches.append(y.tolist())
    return batches


def torch_batches(size, batch_size, rank, world_size, shuffle, drop_last, sampler_drop_last, seed=0):
    sampler = DistributedSampler(list(range(size)), num_replicas=world_size, rank=rank, shuffle=shuffle, seed=seed,
                                 drop_last=sampler_drop_last)
    return [b.tolist() for b in DataLoader(list(range(size)), batch_size=batch_size, sampler=sampler, drop_last=drop_last)]


@pytest.mark.skipif(torch is None, reason="torch is the reference")
@pytest.mark.parametrize("size,world_size", [(105, 4), (100, 4), (101, 7), (9, 4), (3, 2)])
@pytest.mark.parametrize("drop_last,sampler_drop_last", list(itertools.product((False, True), repeat=2)))
def test_unshuffled_order_equals_distributed_sampler(tmp_path, size, world_size, drop_last, sampler_drop_last):
    """Every rank's batches, index by index, equal a DataLoader over DistributedSampler(shuffle=False)."""
    paths = dataset(tmp_path, size)
    share = size // world_size if sampler_drop_last else math.ceil(size / world_size)
    batch_size = max(1, min(8, share // 2))
    for rank in range(world_size):
        expected = torch_batches(size, batch_size, rank, world_size, False, drop_last, sampler_drop_last)
        got = rank_batches(paths, batch_size=batch_size, shuffle=False, rank=rank, world_size=world_size, drop_last=drop_last,
                           sampler_drop_last=sampler_drop_last)
        assert got == expected, f"rank {rank}"


@pytest.mark.parametrize("size,world_size", [(105, 4), (100, 4), (4 + 100 + 1, 4)])
def test_padding(tmp_path, size, world_size):
    """test_DistributedSampler_padding: with the sampler's drop_last every rank gets
    ceil((size - world) / world) samples (size / world when it divides) and no sample twice;
    without it ceil(size / world), the padding repeating the fewest samples."""
    paths = dataset(tmp_path, size)
    effective = math.ceil((size - world_size) / world_size) if size % world_size else size // world_size
    for sampler_drop_last, per_rank in ((True, effective), (False, math.ceil(size / world_size))):
        seen = []
        for rank in range(world_size):
            loader = Loader(paths[0], labels=paths[1], batch_size=10, seed=3, rank=rank, world_size=world_size,
                            sampler_drop_last=sampler_drop_last)
            assert loader.samples_per_epoch == per_rank
            indices = [i for batch in rank_batches(paths, batch_size=10, seed=3, rank=rank, world_size=world_size,
                                                   sampler_drop_last=sampler_drop_last) for i in batch]
            assert len(indices) == per_rank
            seen += indices
        repeats = len(seen) - len(set(seen))
        assert repeats == (0 if sampler_drop_last else per_rank * world_size - size)
        assert len(set(seen)) == (per_rank * world_size if sampler_drop_last else size)


def test_padding_tiny_dataset(tmp_path):
    """test_DistributedSampler_padding's tiny dataset: 1 record over 4 ranks is that record on
    each rank; with the sampler's drop_last none is left to any rank, which is refused."""
    paths = dataset(tmp_path, 1)
    for rank in range(4):
        assert rank_batches(paths, batch_size=1, rank=rank, world_size=4) == [[0]]
    with pytest.raises(HostMemValueError, match="leave none to a rank"):
        Loader(paths[0], labels=paths[1], batch_size=1, rank=0, world_size=4, sampler_drop_last=True)


def test_invalid_rank(tmp_path):
    """test_distributed_sampler_invalid_rank: rank 3 of 3 and rank -1 are refused."""
    paths = dataset(tmp_path, 10)
    for rank in (3, -1):
        with pytest.raises(HostMemValueError, match="rank must be in"):
            Loader(paths[0], batch_size=2, rank=rank, world_size=3)


def test_duplicating_data_with_drop_last(tmp_path):
    """test_duplicating_data_with_drop_last: 9 records over 4 ranks, batches of 2 with
    drop_last: what all ranks see together has no sample twice."""
    paths = dataset(tmp_path, 9)
    scanned = [i for rank in range(4) for batch in rank_batches(paths, batch_size=9 // 4, drop_last=True, rank=rank, world_size=4)
               for i in batch]
    assert len(scanned) == len(set(scanned)) == 8


def test_sampler_reproducibility(tmp_path):
    """test_sampler_reproducibility (DistributedSampler): the same seed and epoch give the same
    order on every run, another epoch or seed another order, and every rank's share of one
    epoch is drawn from the same permutation (together they cover the dataset)."""
    paths = dataset(tmp_path, 50)
    options = dict(batch_size=5, rank=0, world_size=3, shuffle=True)
    first = rank_batches(paths, seed=7, **options)
    assert rank_batches(paths, seed=7, **options) == first
    assert rank_batches(paths, seed=8, **options) != first
    loader = Loader(paths[0], labels=paths[1], workers=2, seed=7, **options)
    epochs = []
    for epoch in (0, 1, 0):
        loader.set_epoch(epoch)
        epochs.append([y.tolist() for _, y in loader])
    assert epochs[0] == first and epochs[2] == first and epochs[1] != first
    together = [i for rank in range(3) for batch in rank_batches(paths, seed=7, batch_size=5, rank=rank, world_size=3) for i in batch]
    assert set(together) == set(range(50)) and len(together) == 51  # one padding sample


@pytest.mark.skipif(torch is None, reason="torch is the reference")
@pytest.mark.parametrize("sampler_drop_last", (False, True))
def test_shuffled_counts_equal_distributed_sampler(tmp_path, sampler_drop_last):
    """Shuffled (hostmem's generator, so another order): per rank as many batches of the same
    sizes as DataLoader over DistributedSampler, and the same set of samples across ranks."""
    size, world_size = 103, 4
    paths = dataset(tmp_path, size)
    ours, theirs = set(), set()
    for rank in range(world_size):
        expected = torch_batches(size, 6, rank, world_size, True, False, sampler_drop_last)
        got = rank_batches(paths, batch_size=6, seed=1, rank=rank, world_size=world_size, sampler_drop_last=sampler_drop_last)
        assert [len(b) for b in got] == [len(b) for b in expected]
        ours |= {i for b in got for i in b}
        theirs |= {i for b in expected for i in b}
    assert len(ours) == len(theirs)
