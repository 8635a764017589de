import os

import numpy as np
import pytest

import hostmem
from conftest import error_in_forked_child
from hostmem import EmbeddingBag, HostMemError


def reference(table, indices, offsets, mode="sum", weights=None):
    """nn.EmbeddingBag's pooling written out in numpy."""
    bounds = list(offsets) + [len(indices)]
    out = np.zeros((len(offsets), table.shape[1]), dtype=np.float64)
    for bag in range(len(offsets)):
        rows = indices[bounds[bag]:bounds[bag + 1]]
        if len(rows) == 0:
            continue
        values = table[rows].astype(np.float64)
        if weights is not None:
            values = values * weights[bounds[bag]:bounds[bag + 1], None]
        out[bag] = values.sum(axis=0) / (len(rows) if mode == "mean" else 1)
    return out


@pytest.fixture
def table():
    return np.random.default_rng(1).standard_normal((1000, 48)).astype(np.float32)


@pytest.mark.parametrize("mode", ["sum", "mean"])
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("prefetch,style", [(0, "burst"), (32, "burst"), (32, "per-lookup"), (32, "per-lookup-row"), (32, "auto"), ("auto", "auto")])
def test_fp32_equals_reference(table, mode, threads, prefetch, style):
    rng = np.random.default_rng(2)
    indices = rng.integers(0, 1000, size=20_000)
    offsets = np.sort(rng.choice(np.arange(1, 20_000), size=499, replace=False))
    offsets = np.concatenate([[0], offsets])
    bag = EmbeddingBag(table, mode=mode, threads=threads, prefetch=prefetch, prefetch_style=style)
    assert bag.prefetch_style in ("burst", "per-lookup", "per-lookup-row") and style in ("auto", bag.prefetch_style)
    got = bag(indices, offsets)
    assert got.shape == (500, 48) and got.dtype == np.float32
    np.testing.assert_allclose(got, reference(table, indices, offsets, mode), rtol=1e-4, atol=1e-4)


def test_weights_empty_bags_and_last_offset(table):
    indices = np.array([3, 7, 7, 999, 0], dtype=np.int64)
    offsets = np.array([0, 2, 2, 5])  # bag 1 is empty; include_last_offset closes bag 2 at 5
    weights = np.array([0.5, 2.0, -1.0, 1.0, 3.0], dtype=np.float32)
    bag = EmbeddingBag(table)
    got = bag(indices, offsets, per_sample_weights=weights, include_last_offset=True)
    assert got.shape == (3, 48)
    np.testing.assert_allclose(got, reference(table, indices, offsets[:-1], weights=weights), rtol=1e-5, atol=1e-5)
    assert not got[1].any(), "an empty bag is zeros"


def test_two_dimensional_indices_are_one_bag_per_row(table):
    indices = np.array([[1, 2, 3], [4, 5, 6]])
    got = EmbeddingBag(table, mode="mean")(indices)
    np.testing.assert_allclose(got, reference(table, indices.reshape(-1), [0, 3], "mean"), rtol=1e-5)


def test_int8_is_close_to_fp32(table):
    rng = np.random.default_rng(3)
    indices = rng.integers(0, 1000, size=4096)
    offsets = np.arange(0, 4096, 16)
    exact = reference(table, indices, offsets)
    got = EmbeddingBag(table, dtype="int8")(indices, offsets)
    # 8 bits over each row's range: at most half a step per value, 16 values per bag.
    step = (table.max(axis=1) - table.min(axis=1)).max() / 255
    assert np.abs(got - exact).max() <= 16 * step / 2 + 1e-3
    assert repr(EmbeddingBag(table, dtype="int8")).startswith("hostmem.EmbeddingBag(1000 × 48")


@pytest.mark.parametrize("call, message", [
    (lambda bag: bag(np.array([0, 1000]), np.array([0])), "index 1000 is outside the table's 1000 rows"),
    (lambda bag: bag(np.array([0, -1]), np.array([0])), "index -1 is outside"),
    (lambda bag: bag(np.array([0, 1000], dtype=np.int32), np.array([0])), "index 1000 is outside the table's 1000 rows"),
    (lambda bag: bag(np.array([0, 2**32 + 1]), np.array([0])), "outside the table"),
    (lambda bag: bag(np.array([0.5, 1.0]), np.array([0])), "indices must be integers"),
    (lambda bag: bag(np.array([0, 1])), "need offsets"),
    (lambda bag: bag(np.array([0, 1]), np.array([0, 2, 1])), "offsets must be ascending"),
    (lambda bag: bag(np.array([0, 1]), np.array([0]), per_sample_weights=np.ones(3)), "one weight per index"),
    (lambda bag: bag(np.array([0, 1]), np.array([0, 3]), include_last_offset=True), "can not be greater"),
])
def test_bad_lookups_raise_one_clear_error(table, call, message):
    with pytest.raises(HostMemError, match=message):
        call(EmbeddingBag(table))


@pytest.mark.parametrize("kwargs, message", [
    (dict(table=np.array([["a", "b"]], dtype=object)), "must be numeric"),
    (dict(table=np.zeros(5)), "must be 2-D"),
    (dict(table=np.zeros((0, 4))), "at least one row"),
    (dict(table=np.zeros((4, 4)), mode="max"), "mode must be"),
    (dict(table=np.zeros((4, 4)), dtype="float16"), "dtype must be"),
    (dict(table=np.zeros((4, 4)), threads=0), "threads must be"),
    (dict(table=np.zeros((4, 4)), prefetch=-1), "prefetch must be"),
    (dict(table=np.zeros((4, 4)), prefetch_style="eager"), "prefetch_style must be one of"),
])
def test_bad_tables_raise_one_clear_error(kwargs, message):
    with pytest.raises(HostMemError, match=message):
        EmbeddingBag(**kwargs)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_use_after_fork_raises_in_the_child(table):
    bag = EmbeddingBag(table)
    assert "made before os.fork()" in error_in_forked_child(lambda: bag(np.array([0]), np.array([0])))
    assert bag(np.array([0]), np.array([0])).shape == (1, 48), "the parent's bag still works"


def test_matches_torch_when_installed(table):
    torch = pytest.importorskip("torch")
    module = torch.nn.EmbeddingBag.from_pretrained(torch.from_numpy(table), mode="sum")
    indices = torch.randint(0, 1000, (2048,))
    offsets = torch.arange(0, 2048, 32)
    expected = module(indices, offsets).numpy()
    got = EmbeddingBag.from_torch(module)(indices, offsets)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)


def test_the_library_is_the_one_found():
    assert hostmem.library_path.endswith("libhostmem_c.so")
    assert hostmem.version().count(".") == 2


def test_the_torch_operator_and_opcheck(table):
    torch = pytest.importorskip("torch")
    bag = EmbeddingBag(table, mode="mean")
    indices = torch.randint(0, 1000, (256,))
    offsets = torch.arange(0, 256, 16)
    weights = None
    got = bag.op(indices, offsets)
    np.testing.assert_allclose(got.numpy(), bag(indices, offsets), rtol=1e-6)
    from hostmem import torch_ops
    operator = torch_ops.register()
    torch.library.opcheck(operator.default, (torch_ops.bag_id(bag), bag.dim, indices, offsets, weights))


def test_prefetch_auto_chooses_a_distance_and_style_it_timed():
    table = np.random.default_rng(0).random((1 << 16, 64), dtype=np.float32)
    bag = hostmem.EmbeddingBag(table)  # prefetch="auto", prefetch_style="auto" by default
    assert bag.prefetch in (8, 16, 24, 32, 64, 128) and bag.prefetch_style in ("burst", "per-lookup", "per-lookup-row")
    fixed = hostmem.EmbeddingBag(table, prefetch=24, prefetch_style="auto")
    assert fixed.prefetch == 24
    styled = hostmem.EmbeddingBag(table, prefetch="auto", prefetch_style="per-lookup")
    assert styled.prefetch in (8, 16, 24, 32, 64, 128) and styled.prefetch_style == "per-lookup"
    off = hostmem.EmbeddingBag(table, prefetch=0)
    assert off.prefetch == 0
    indices = np.random.default_rng(1).integers(0, 1 << 16, 4096)
    offsets = np.arange(0, 4096, 8, dtype=np.int64)
    expected = off(indices, offsets)
    for style in ("burst", "per-lookup", "per-lookup-row"):
        for dtype in ("float32", "int8"):
            styled = hostmem.EmbeddingBag(table, dtype=dtype, prefetch=16, prefetch_style=style)
            assert styled.prefetch_style == style
            assert np.allclose(styled(indices, offsets), expected, atol=0.5 if dtype == "int8" else 1e-4), (style, dtype)
    assert np.allclose(bag(indices, offsets), expected)
    for bad in ("fast", -1, 2000, True):
        with pytest.raises(hostmem.HostMemValueError, match="prefetch"):
            hostmem.EmbeddingBag(table, prefetch=bad)
