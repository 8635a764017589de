"""hostmem.EmbeddingBag against torch.nn.functional.embedding_bag's semantics, case by case.

Cases re-written from PyTorch's own tests (pytorch/pytorch test/nn/test_embedding.py; the
upstream test each comes from is named beside it). Each result is held against a plain
numpy loop written here, and against torch itself where torch is installed; each refusal
must raise a HostMemError where torch raises (checked against torch where installed)."""
import numpy as np
import pytest

from hostmem import EmbeddingBag, HostMemError, HostMemNotImplementedError, HostMemTypeError, HostMemValueError

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # the numpy reference alone
    torch = None

ROWS, DIM = 10, 3


@pytest.fixture(scope="module")
def table():
    return np.random.default_rng(3).standard_normal((ROWS, DIM)).astype(np.float32)


def reference(table, indices, offsets, weights=None, mode="sum", padding_idx=None, include_last_offset=False):
    """torch's embedding_bag, written out: bag b pools indices[offsets[b]:offsets[b+1]]."""
    indices = np.asarray(indices)
    if indices.ndim == 2:
        bags = [(row, None if weights is None else np.asarray(weights)[r]) for r, row in enumerate(indices)]
    else:
        offsets = list(offsets)
        ends = offsets[1:] if include_last_offset else offsets[1:] + [len(indices)]
        starts = offsets[:-1] if include_last_offset else offsets
        bags = [(indices[s:e], None if weights is None else np.asarray(weights)[s:e]) for s, e in zip(starts, ends)]
    out = np.zeros((len(bags), table.shape[1]), dtype=np.float64)
    for b, (rows, w) in enumerate(bags):
        keep = [k for k, r in enumerate(rows) if r != padding_idx]
        for k in keep:
            out[b] += table[rows[k]] * (1.0 if w is None else w[k])
        if mode == "mean" and keep:
            out[b] /= len(keep)
    return out


def with_torch(table, indices, offsets, weights=None, mode="sum", padding_idx=None, include_last_offset=False):
    tensor = lambda a: None if a is None else torch.as_tensor(np.asarray(a))  # noqa: E731
    return F.embedding_bag(tensor(indices), torch.from_numpy(table), tensor(offsets), mode=mode, per_sample_weights=tensor(weights),
                           padding_idx=padding_idx, include_last_offset=include_last_offset).numpy()


CASES = {
    # test_embedding_bag_empty_input: empty bags pool to zeros, in sum and mean
    "empty bags": dict(indices=[1, 2, 3], offsets=[0, 0, 3, 3]),
    "empty bags, mean": dict(indices=[1, 2, 3], offsets=[0, 0, 3, 3], mode="mean"),
    "no indices at all": dict(indices=np.zeros(0, dtype=np.int64), offsets=[0, 0]),
    # test_embeddingbag_include_last_offset: the last offset ends the last bag; indices past it are left out
    "include_last_offset": dict(indices=[1, 2, 3, 4, 5], offsets=[0, 2, 5], include_last_offset=True),
    "include_last_offset, short": dict(indices=[1, 2, 3, 4, 5], offsets=[0, 2, 4], include_last_offset=True),
    "include_last_offset, mean": dict(indices=[1, 2, 3, 4, 5], offsets=[0, 1, 5], mode="mean", include_last_offset=True),
    # test_EmbeddingBag_per_sample_weights_and_offsets / _and_new_offsets / _and_no_offsets
    "weights and offsets": dict(indices=[3, 1, 1, 9, 0], offsets=[0, 2, 2], weights=np.float32([0.5, 2, -1, 3, 0.25])),
    "weights, last offset included": dict(indices=[3, 1, 1, 9, 0], offsets=[0, 2, 5], weights=np.float32([0.5, 2, -1, 3, 0.25]),
                                          include_last_offset=True),
    "weights, 2-D": dict(indices=[[3, 1], [9, 9]], offsets=None, weights=np.float32([[1, 2], [0.5, -0.5]])),
    # test_embedding_bag_1D_padding_idx / test_embedding_bag_2D_padding_idx: padding rows count for nothing, not in the mean
    "padding, sum": dict(indices=[2, 0, 2, 4, 0, 0], offsets=[0, 3, 4], padding_idx=2),
    "padding, mean": dict(indices=[2, 0, 2, 4, 0, 0], offsets=[0, 3, 4], padding_idx=2, mode="mean"),
    "padding only in a bag": dict(indices=[2, 2, 5], offsets=[0, 2], padding_idx=2, mode="mean"),
    "padding, weights": dict(indices=[2, 0, 7], offsets=[0, 1], padding_idx=2, weights=np.float32([5, 2, 3])),
    "padding, 2-D, mean": dict(indices=[[1, 2, 2], [2, 2, 2]], offsets=None, padding_idx=2, mode="mean"),
    "padding from the end": dict(indices=[9, 1, 9], offsets=[0, 1], padding_idx=-1),
    # int32 indices with int64 offsets (torch takes either)
    "int32 indices": dict(indices=np.int32([4, 5, 6]), offsets=[0, 1]),
}


@pytest.mark.parametrize("name", CASES)
def test_result_equals_torch(table, name):
    case = dict(CASES[name])
    indices, offsets, weights = case.pop("indices"), case.pop("offsets"), case.pop("weights", None)
    mode, padding, last = case.get("mode", "sum"), case.get("padding_idx"), case.get("include_last_offset", False)
    bag = EmbeddingBag(table, mode=mode, padding_idx=padding)
    got = bag(np.asarray(indices), None if offsets is None else np.asarray(offsets), per_sample_weights=weights, include_last_offset=last)
    padding_row = None if padding is None else padding % ROWS
    expected = reference(table, indices, offsets, weights, mode, padding_row, last)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    if torch is not None:
        np.testing.assert_allclose(got, with_torch(table, indices, offsets, weights, mode, padding, last), rtol=1e-5, atol=1e-5)


REFUSED = {
    # test_embedding_bag_offsets_first_element (offsets[0] must be 0; torch: RuntimeError)
    "offsets[0] not 0": (dict(indices=[1, 2, 3], offsets=[1, 2]), HostMemValueError, "offsets\\[0\\] has to be 0"),
    "last offset past the indices": (dict(indices=[1, 2, 3], offsets=[0, 4]), HostMemValueError, "can not be greater"),
    "include_last_offset without offsets": (dict(indices=[1, 2], offsets=np.zeros(0, dtype=np.int64), include_last_offset=True),
                                            HostMemValueError, "at least one offset"),
    # test_EmbeddingBag_per_sample_weights_failures
    "weights with mean": (dict(indices=[1, 2], offsets=[0], weights=np.float32([1, 1]), mode="mean"), HostMemNotImplementedError,
                          "only supported for mode='sum'"),
    "float64 weights on a float32 table": (dict(indices=[1, 2], offsets=[0], weights=np.float64([1, 1])), HostMemTypeError, "float32"),
    "flat weights with 2-D indices": (dict(indices=[[1, 2]], offsets=None, weights=np.float32([1, 1])), HostMemValueError,
                                      "shape of the indices"),
    "too few weights": (dict(indices=[1, 2, 3], offsets=[0], weights=np.float32([1, 1])), HostMemValueError, "one weight per index"),
    "2-D indices with offsets": (dict(indices=[[1, 2]], offsets=[0]), HostMemValueError, "give no offsets"),
    "1-D indices without offsets": (dict(indices=[1, 2], offsets=None), HostMemValueError, "need offsets"),
    "2-D offsets": (dict(indices=[1, 2], offsets=[[0]]), HostMemValueError, "offsets must be 1-D"),
    "3-D indices": (dict(indices=[[[1, 2]]], offsets=None), HostMemValueError, "1-D \\(with offsets\\) or 2-D"),
    "float indices": (dict(indices=np.float32([1, 2]), offsets=[0]), HostMemTypeError, "indices must be integers"),
    # test_embedding_bag_out_of_bounds_idx
    "index past the table": (dict(indices=[1, ROWS], offsets=[0]), HostMemValueError, "outside the table"),
    "negative index": (dict(indices=[1, -1], offsets=[0]), HostMemValueError, "outside"),
}


@pytest.mark.parametrize("name", REFUSED)
def test_refused_where_torch_refuses(table, name):
    case, error, message = REFUSED[name]
    case = dict(case)
    indices, offsets, weights = np.asarray(case.pop("indices")), case.pop("offsets"), case.pop("weights", None)
    mode, last = case.get("mode", "sum"), case.get("include_last_offset", False)
    offsets = None if offsets is None else np.asarray(offsets)
    with pytest.raises(error, match=message):
        EmbeddingBag(table, mode=mode)(indices, offsets, per_sample_weights=weights, include_last_offset=last)
    if torch is not None:
        with pytest.raises((RuntimeError, ValueError, NotImplementedError, IndexError, TypeError)):
            with_torch(table, indices, offsets, weights, mode, None, last)


def test_from_torch_takes_padding_and_last_offset_and_refuses_max_norm():
    """test_embeddingbag_from_pretrained_options: padding_idx and include_last_offset come along."""
    if torch is None:
        pytest.skip("torch is not installed")
    module = torch.nn.EmbeddingBag(ROWS, DIM, mode="mean", padding_idx=3, include_last_offset=True)
    bag = EmbeddingBag.from_torch(module)
    indices, offsets = torch.tensor([3, 1, 3, 5, 6]), torch.tensor([0, 2, 5])
    np.testing.assert_allclose(bag(indices, offsets), module(indices, offsets).detach().numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(HostMemValueError, match="max_norm"):
        EmbeddingBag.from_torch(torch.nn.EmbeddingBag(ROWS, DIM, max_norm=1.0))


def test_short_last_offset_with_mean_is_refused(table):
    """Deliberately unsupported: with include_last_offset, mode="mean" and a last offset short of
    the indices, torch 2.x divides the last bag's sum by every index after its start (the
    indices past the last offset included), a result no other reading of the arguments gives."""
    with pytest.raises(HostMemValueError, match="last offset must be the number of indices"):
        EmbeddingBag(table, mode="mean")(np.array([1, 2, 3, 4, 5]), np.array([0, 1, 4]), include_last_offset=True)
    if torch is not None:
        quirk = with_torch(table, [1, 2, 3, 4, 5], [0, 1, 4], mode="mean", include_last_offset=True)
        np.testing.assert_allclose(quirk[1], table[[2, 3, 4]].sum(axis=0) / 4, rtol=1e-5)


def test_weights_as_a_list_are_numbers_not_a_dtype(table):
    got = EmbeddingBag(table)(np.array([1, 2]), np.array([0]), per_sample_weights=[0.5, 2.0])
    np.testing.assert_allclose(got[0], table[1] * 0.5 + table[2] * 2, rtol=1e-6)


def test_padding_idx_outside_the_table_is_refused(table):
    with pytest.raises(HostMemValueError, match="padding_idx"):
        EmbeddingBag(table, padding_idx=ROWS)
    assert isinstance(HostMemNotImplementedError("x"), (HostMemError, NotImplementedError))
