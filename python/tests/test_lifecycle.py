"""Closing and the error classes: close() and `with` besides the garbage collector, and
bad arguments as ValueError/TypeError (all HostMemError)."""
import numpy as np
import pytest

from hostmem import EmbeddingBag, HostMemError, HostMemTypeError, HostMemValueError, Loader


@pytest.fixture
def dataset(tmp_path):
    data = np.arange(640, dtype=np.float32).reshape(40, 16)
    np.save(tmp_path / "x.npy", data)
    return str(tmp_path / "x.npy"), data


def test_bag_closes_with_with_and_refuses_lookups_after():
    table = np.arange(12, dtype=np.float32).reshape(4, 3)
    with EmbeddingBag(table) as bag:
        np.testing.assert_array_equal(bag([1, 2], [0]), [table[1] + table[2]])
    with pytest.raises(HostMemValueError, match="closed"):
        bag([1], [0])
    bag.close()  # twice is fine


def test_loader_with_closes_it(dataset):
    path, data = dataset
    with Loader(path, batch_size=8, shuffle=False, workers=1, rank=0, world_size=1) as loader:
        first = [x.copy() for x in loader]
    assert len(first) == 5 and np.array_equal(np.concatenate(first), data)
    with pytest.raises(HostMemValueError, match="closed"):
        next(iter(loader))


def test_closing_mid_epoch_ends_the_loop_and_keeps_the_views(dataset):
    path, data = dataset
    loader = Loader(path, batch_size=8, shuffle=False, workers=1, rank=0, world_size=1)
    kept = []
    for x in loader:
        kept.append(x)  # views of the pool's buffers, not copies
        if len(kept) == 2:
            loader.close()
    assert len(kept) == 2 and loader.epoch == 0, "the epoch did not end: closing is not finishing"
    np.testing.assert_array_equal(np.concatenate(kept), data[:16])  # the views outlive the close


def test_bad_arguments_are_value_and_type_errors(dataset):
    path, _ = dataset
    with pytest.raises(ValueError):
        EmbeddingBag(np.ones((2, 2)), mode="max")
    with pytest.raises(TypeError):
        EmbeddingBag(np.array([["a"]]))
    with pytest.raises(ValueError):
        Loader(path, batch_size=0)
    with pytest.raises(HostMemError):  # every one is a HostMemError too
        Loader(path, batch_size=-1)
    assert issubclass(HostMemTypeError, TypeError) and issubclass(HostMemValueError, ValueError)
