"""Loader.to(device): the order, the lease of each pool buffer, resume, and errors. The
CUDA path (side stream, events, pinned pool) needs a GPU; here torch sees none, so the
checks run on the CPU device and on the refusals."""
import numpy as np
import pytest

from hostmem import HostMemError, Loader
from test_loader import dataset  # noqa: F401  (the fixture)

torch = pytest.importorskip("torch")


def test_batches_on_the_device_equal_the_loader(dataset):  # noqa: F811
    x_path, y_path, data, labels = dataset
    reference = [(x.copy(), y.copy()) for x, y in Loader(x_path, labels=y_path, batch_size=64, seed=2, rank=0, world_size=1)]
    moved = Loader(x_path, labels=y_path, batch_size=64, seed=2, rank=0, world_size=1).to("cpu", depth=2)
    batches = [(x.clone(), y.clone()) for x, y in moved]
    assert len(batches) == len(reference) == len(moved)
    for (x, y), (rx, ry) in zip(batches, reference):
        assert isinstance(x, torch.Tensor) and x.device.type == "cpu"
        np.testing.assert_array_equal(x.numpy(), rx)
        np.testing.assert_array_equal(y.numpy(), ry)


def test_batches_of_data_alone_are_tensors_not_tuples(dataset):  # noqa: F811
    x_path, _, data, _ = dataset
    first = next(iter(Loader(x_path, batch_size=10, shuffle=False, rank=0, world_size=1).to("cpu")))
    assert isinstance(first, torch.Tensor)
    np.testing.assert_array_equal(first.numpy(), data[:10])


def test_resume_counts_only_batches_handed_out(dataset):  # noqa: F811
    x_path, y_path, _, _ = dataset
    whole = [y.clone() for _, y in Loader(x_path, labels=y_path, batch_size=50, seed=4, rank=0, world_size=1).to("cpu")]
    moved = Loader(x_path, labels=y_path, batch_size=50, seed=4, rank=0, world_size=1).to("cpu", depth=2)
    taken = []
    for _, y in moved:
        taken.append(y.clone())
        if len(taken) == 5:
            state = moved.state_dict()  # two more batches are already copied ahead
            break
    assert state["batches_done"] == 5
    again = Loader(x_path, labels=y_path, batch_size=50, seed=4, rank=0, world_size=1).to("cpu")
    again.load_state_dict(state)
    taken += [y.clone() for _, y in again]
    assert len(taken) == len(whole)
    for a, b in zip(taken, whole):
        assert torch.equal(a, b)


def test_depth_must_leave_a_buffer_to_fill(dataset):  # noqa: F811
    x_path, _, _, _ = dataset
    loader = Loader(x_path, batch_size=10, prefetch=4, rank=0, world_size=1)
    with pytest.raises(HostMemError, match="no buffer of the pool's 4"):
        loader.to("cpu", depth=3)
    with pytest.raises(HostMemError, match="positive integer"):
        loader.to("cpu", depth=0)
    with pytest.raises(HostMemError, match="not a torch device"):
        loader.to("no-such-device")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal on a machine without CUDA")
def test_cuda_without_a_gpu_is_refused_and_the_pool_is_not_pinned(dataset):  # noqa: F811
    x_path, _, _, _ = dataset
    loader = Loader(x_path, batch_size=10, rank=0, world_size=1)
    assert not loader.pinned and "torch sees no CUDA device" in loader.pinning
    with pytest.raises(HostMemError, match="torch sees no CUDA device"):
        loader.to("cuda:0")
