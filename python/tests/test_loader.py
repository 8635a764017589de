import gc
import os

import numpy as np
import pytest

import hostmem
from conftest import error_in_forked_child
from hostmem import HostMemError, HostMemValueError, Loader


@pytest.fixture
def dataset(tmp_path):
    """1000 records of 16 float32 (record i holds i, i + 0.5, …) and int64 labels i * 7."""
    data = (np.arange(1000, dtype=np.float32)[:, None] + np.arange(16, dtype=np.float32) / 32).astype(np.float32)
    labels = np.arange(1000, dtype=np.int64) * 7
    np.save(tmp_path / "x.npy", data)
    np.save(tmp_path / "y.npy", labels)
    return str(tmp_path / "x.npy"), str(tmp_path / "y.npy"), data, labels


def collect(loader):
    """Every batch of one epoch, copied."""
    return [(x.copy(), y.copy()) for x, y in loader]


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("sort_within_batch", [False, True])
@pytest.mark.parametrize("drop_last", [False, True])
def test_batches_equal_the_reference(dataset, shuffle, sort_within_batch, drop_last):
    x_path, y_path, data, labels = dataset
    loader = Loader(x_path, labels=y_path, batch_size=64, shuffle=shuffle, seed=5, drop_last=drop_last,
                    sort_within_batch=sort_within_batch, workers=2, rank=0, world_size=1)
    batches = collect(loader)
    assert len(batches) == len(loader) == (1000 // 64 if drop_last else -(-1000 // 64))
    seen = []
    for x, y in batches:
        rows = np.rint(x[:, 0]).astype(int)  # record i starts with i
        np.testing.assert_array_equal(x, data[rows])
        np.testing.assert_array_equal(y, labels[rows])
        seen += list(rows)
    assert len(set(seen)) == len(seen) == (len(batches) * 64 if drop_last else 1000)
    assert (seen == sorted(seen)) == (not shuffle)


def test_epochs_reshuffle_and_set_epoch_repeats(dataset):
    x_path, y_path, _, _ = dataset
    loader = Loader(x_path, labels=y_path, batch_size=100, seed=1, rank=0, world_size=1)
    first = [y.copy() for _, y in loader]
    second = [y.copy() for _, y in loader]
    assert not all(np.array_equal(a, b) for a, b in zip(first, second)), "each iteration is a new epoch"
    loader.set_epoch(0)
    again = [y.copy() for _, y in loader]
    assert all(np.array_equal(a, b) for a, b in zip(first, again))


@pytest.mark.parametrize("world_size", [2, 3, 7])
def test_ranks_cover_every_index_once(dataset, world_size):
    x_path, y_path, _, _ = dataset
    per_rank = []
    for rank in range(world_size):
        loader = Loader(x_path, labels=y_path, batch_size=32, seed=3, rank=rank, world_size=world_size)
        labels = np.concatenate([y.copy() for _, y in loader]) // 7
        per_rank.append(labels)
    counts = {len(labels) for labels in per_rank}
    assert counts == {-(-1000 // world_size)}, "the same number of samples (and batches) on every rank"
    every = np.concatenate(per_rank)
    padding = len(every) - 1000
    assert set(every) == set(range(1000)), "together they cover every index"
    assert len(every) - len(set(every)) == padding, "only DistributedSampler's padding repeats"


def test_resume_mid_epoch_equals_an_uninterrupted_epoch(dataset):
    x_path, y_path, _, _ = dataset
    whole = [y.copy() for _, y in Loader(x_path, labels=y_path, batch_size=50, seed=9, rank=0, world_size=1)]
    loader = Loader(x_path, labels=y_path, batch_size=50, seed=9, rank=0, world_size=1)
    taken = []
    for _, y in loader:
        taken.append(y.copy())
        if len(taken) == 7:
            state = loader.state_dict()
            break
    fresh = Loader(x_path, labels=y_path, batch_size=50, seed=9, rank=0, world_size=1)
    fresh.load_state_dict(state)
    taken += [y.copy() for _, y in fresh]
    assert len(taken) == len(whole)
    for a, b in zip(taken, whole):
        np.testing.assert_array_equal(a, b)


def test_a_batch_larger_than_a_ranks_share_is_one_short_batch(dataset):
    """As a DataLoader over a DistributedSampler: 1000 records over 7 ranks is 143 a rank, so
    a batch of 200 is one batch of 143 on each; with drop_last there would be none, refused
    with the reason."""
    x_path, y_path, _, _ = dataset
    seen = []
    for rank in range(7):
        batches = [y.copy() for _, y in Loader(x_path, labels=y_path, batch_size=200, seed=2, rank=rank, world_size=7)]
        assert [len(b) for b in batches] == [143]
        seen.append(batches[0] // 7)
    assert set(np.concatenate(seen)) == set(range(1000))
    with pytest.raises(HostMemValueError, match="drop_last"):
        Loader(x_path, labels=y_path, batch_size=200, rank=0, world_size=7, drop_last=True)


def test_a_second_thread_iterating_is_refused_not_deadlocked(dataset):
    """Two threads iterating one Loader deadlocked in the library; now the second one gets one
    clear error while the first loop runs, and the Loader works once that loop is done."""
    import threading
    x_path, y_path, _, _ = dataset
    loader = Loader(x_path, labels=y_path, batch_size=100, seed=5, rank=0, world_size=1)
    started, go_on, counted = threading.Event(), threading.Event(), []

    def first():
        for n, (x, y) in enumerate(loader):
            if n == 0:
                started.set()
                go_on.wait(30)
            counted.append(len(y))

    thread = threading.Thread(target=first)
    thread.start()
    assert started.wait(30)
    try:
        with pytest.raises(HostMemValueError, match="another thread"):
            for _ in loader:
                pass
    finally:
        go_on.set()
        thread.join(60)
    assert sum(counted) == 1000, "the first loop ran its whole epoch"
    assert sum(len(y) for _, y in loader) == 1000, "and the Loader iterates again after it"


def test_state_dict_after_break_resumes_where_the_loop_left(dataset):
    """After `break` the loop is gone: state_dict() still says how many batches it took (not
    0, which would replay the epoch), and a new `for` starts the epoch again (DataLoader's way)."""
    x_path, y_path, _, _ = dataset
    whole = [y.copy() for _, y in Loader(x_path, labels=y_path, batch_size=50, seed=4, rank=0, world_size=1)]
    loader = Loader(x_path, labels=y_path, batch_size=50, seed=4, rank=0, world_size=1)
    taken = []
    for x, y in loader:
        taken.append(y.copy())
        if len(taken) == 3:
            break
    state = loader.state_dict()
    assert state["batches_done"] == 3 and state["epoch"] == 0
    again = []
    for x, y in loader:  # the same names: the batch the first loop left is let go
        again.append(y.copy())
    assert len(again) == len(whole), "a new loop is a whole epoch"
    assert loader.state_dict() == dict(state, epoch=1, batches_done=0)
    fresh = Loader(x_path, labels=y_path, batch_size=50, seed=4, rank=0, world_size=1)
    fresh.load_state_dict(state)
    taken += [y.copy() for _, y in fresh]
    assert len(taken) == len(whole)
    for a, b in zip(taken, whole):
        np.testing.assert_array_equal(a, b)


def test_a_held_batch_keeps_its_data_and_its_buffer(dataset):
    x_path, y_path, data, _ = dataset
    loader = Loader(x_path, labels=y_path, batch_size=10, shuffle=False, prefetch=4, workers=1, rank=0, world_size=1)
    iterator = iter(loader)
    kept_x, kept_y = next(iterator)
    for _ in range(2):
        next(iterator)
    np.testing.assert_array_equal(kept_x, data[:10]), "still batch 0 while the loader moves on"
    # Batch 4 needs batch 0's buffer: while it is held the loader refuses, naming the fix.
    next(iterator)
    with pytest.raises(HostMemError, match="still referenced by your code.*copy"):
        next(iterator)
    np.testing.assert_array_equal(kept_x, data[:10])


def test_a_slice_of_a_batch_holds_its_buffer_as_the_batch_does(dataset):
    x_path, y_path, data, labels = dataset
    loader = Loader(x_path, labels=y_path, batch_size=10, shuffle=False, prefetch=4, workers=1, rank=0, world_size=1)
    iterator = iter(loader)
    x, y = next(iterator)
    tail, label_row = x[5:][::2], y[3:4].reshape(1, -1)  # views of views: the batch itself is dropped
    del x, y
    for _ in range(3):
        next(iterator)
    with pytest.raises(HostMemError, match="batch 0 .*still referenced"):
        next(iterator)
    np.testing.assert_array_equal(tail, data[5:10][::2])
    np.testing.assert_array_equal(label_row.reshape(-1), labels[3:4].reshape(-1))
    del tail, label_row
    assert sum(1 for _ in loader) == loader.batches_per_epoch, "once the slices go, a whole epoch passes"


def test_the_refusal_names_the_batch_that_holds_the_buffer(dataset):
    x_path, y_path, _, _ = dataset
    loader = Loader(x_path, labels=y_path, batch_size=10, shuffle=False, prefetch=4, workers=1, rank=0, world_size=1)
    batches = loader.batches_per_epoch
    for last in loader:  # the loop variable keeps the epoch's last batch
        pass
    held = last  # noqa: F841  (kept on purpose, as a notebook cell's variable would be)
    iterator = iter(loader)
    slot = (batches - 1) % 4
    for _ in range(slot):  # batches 0.. slot-1 fit around the held buffer
        next(iterator)
    with pytest.raises(HostMemError, match=rf"batch {batches - 1} \(in buffer {slot} of the pool's 4\) is still referenced"):
        next(iterator)


def test_released_buffers_are_reused(dataset):
    x_path, y_path, _, _ = dataset
    loader = Loader(x_path, labels=y_path, batch_size=10, shuffle=False, prefetch=4, workers=1, rank=0, world_size=1)
    addresses = set()
    for x, _ in loader:
        addresses.add(x.__array_interface__["data"][0])
        del x
    assert len(addresses) <= 4, "a pool of 4 buffers, reused"


def test_copy_mode_and_tensors(dataset):
    x_path, y_path, data, _ = dataset
    loader = Loader(x_path, labels=y_path, batch_size=10, shuffle=False, prefetch=2, copy=True, rank=0, world_size=1)
    kept = [x for x, _ in loader]  # copies: holding them all is fine
    np.testing.assert_array_equal(np.concatenate(kept), data)
    torch = pytest.importorskip("torch")
    loader = Loader(x_path, labels=y_path, batch_size=10, shuffle=False, tensors=True, rank=0, world_size=1)
    x, y = next(iter(loader))
    assert isinstance(x, torch.Tensor) and x.dtype == torch.float32 and tuple(x.shape) == (10, 16)


def test_raw_files_with_a_dtype(tmp_path):
    records = np.arange(300, dtype=np.uint16).reshape(100, 3)
    records.tofile(tmp_path / "r.bin")
    loader = Loader(str(tmp_path / "r.bin"), dtype=np.uint16, record_shape=(3,), batch_size=20, shuffle=False, rank=0, world_size=1)
    batches = [x.copy() for x in loader]
    np.testing.assert_array_equal(np.concatenate(batches), records)


@pytest.mark.parametrize("kwargs, message", [
    (dict(data="/nonexistent/x.npy"), "no such file"),
    (dict(batch_size=2000), "larger than"),
    (dict(batch_size=0), "batch_size must be"),
    (dict(rank=2, world_size=2), "rank must be in"),
    (dict(rank=1), "both rank and world_size"),
    (dict(workers=0), "workers must be"),
    (dict(numa_node=4095), "no NUMA node 4095"),
    (dict(gpu=3), "no GPU 3: CUDA sees"),
])
def test_bad_input_raises_one_clear_error(dataset, kwargs, message):
    x_path, y_path, _, _ = dataset
    arguments = dict(data=x_path, labels=y_path, rank=0, world_size=1)
    arguments.update(kwargs)
    if "rank" in kwargs and "world_size" not in kwargs:
        arguments.pop("world_size")
    with pytest.raises(HostMemError, match=message):
        Loader(**arguments)


def test_object_arrays_and_mismatched_labels_are_refused(tmp_path, dataset):
    np.save(tmp_path / "o.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    with pytest.raises(HostMemError, match="Python objects"):
        Loader(str(tmp_path / "o.npy"), rank=0, world_size=1)
    np.save(tmp_path / "short.npy", np.arange(10))
    with pytest.raises(HostMemError, match="the labels file has 10 rows for 1000 samples"):
        Loader(dataset[0], labels=str(tmp_path / "short.npy"), rank=0, world_size=1)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_use_after_fork_raises_in_the_child(dataset):
    loader = Loader(dataset[0], labels=dataset[1], batch_size=10, rank=0, world_size=1)
    assert "made before os.fork()" in error_in_forked_child(lambda: next(iter(loader)))
    x, _ = next(iter(loader))
    assert x.shape == (10, 16)
    # An iterator made before the fork: in the child it handed out its prefetched batches and
    # then waited forever for threads the child does not have; now its next batch is refused.
    del x, _  # its buffer is the next loop's first
    running = iter(loader)
    next(running)
    assert "made before os.fork()" in error_in_forked_child(lambda: [next(running) for _ in range(50)])
    assert next(running)[0].shape == (10, 16), "the parent's loop goes on"


def test_a_batch_outlives_its_loader(dataset):
    x_path, y_path, data, _ = dataset
    loader = Loader(x_path, labels=y_path, batch_size=10, shuffle=False, rank=0, world_size=1)
    x, _ = next(iter(loader))
    del loader
    gc.collect()
    np.testing.assert_array_equal(x, data[:10]), "the pool stays while a view of it does"


def test_the_loop_variable_of_the_last_epoch_does_not_block_the_next(dataset):
    x_path, y_path, data, _ = dataset
    loader = Loader(x_path, labels=y_path, batch_size=100, shuffle=False, prefetch=4, rank=0, world_size=1)
    for epoch in range(3):
        for x, y in loader:  # x, y still view the epoch's last batch when the next epoch starts
            pass
        np.testing.assert_array_equal(x, data[900:1000]), "the last batch, whole"
    second = Loader(x_path, labels=y_path, batch_size=100, shuffle=False, prefetch=2, rank=0, world_size=1)
    for x, _ in second:
        pass
    kept = x
    batches = iter(second)
    first, _ = next(batches)  # batch 0 goes in the free buffer
    np.testing.assert_array_equal(kept, data[900:1000])
    np.testing.assert_array_equal(first, data[:100])


def test_holding_the_last_pool_full_of_batches_still_ends_the_epoch(dataset):
    x_path, y_path, _, _ = dataset
    loader = Loader(x_path, labels=y_path, batch_size=250, shuffle=False, prefetch=4, rank=0, world_size=1)
    kept = [x for x, _ in loader]  # 4 batches in a pool of 4: all held, and the epoch is over
    assert len(kept) == 4
