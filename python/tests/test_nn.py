"""hostmem.nn.EmbeddingBag against torch.nn.EmbeddingBag: forward, backward, training.

Cases re-written from PyTorch's own tests (pytorch/pytorch test/nn/test_embedding.py; the
upstream test each comes from is named in its docstring), with torch's module as the
reference. Deliberately unsupported, each with its error (tested below): float64 tables
(the kernel sums fp32, fp16 and bf16 rows), mode "mean" with include_last_offset and a last
offset short of the indices (torch divides that bag by every index to the end), weights on
another device than the CPU. Errors are HostMemError subclasses of the builtin torch raises
(ValueError, TypeError, NotImplementedError) where torch raises a RuntimeError or an
AssertionError."""
import itertools
import random
import shutil

import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

import hostmem.nn as hn  # noqa: E402
from hostmem import HostMemError, HostMemNotImplementedError, HostMemTypeError, HostMemValueError  # noqa: E402

WEIGHT_DTYPES = (torch.float32, torch.float16, torch.bfloat16)
# dtype2prec_DONTUSE of torch.testing, as upstream compares with it
PRECISION = {torch.float32: 1e-5, torch.float16: 1e-2, torch.bfloat16: 1e-1}
INDEX_DTYPES = list(itertools.product((torch.int32, torch.int64), (torch.int32, torch.int64)))


def twin(reference: nn.EmbeddingBag, **knobs) -> hn.EmbeddingBag:
    """hostmem's module with the reference's settings over a copy of its weight."""
    mine = hn.EmbeddingBag(reference.num_embeddings, reference.embedding_dim, max_norm=reference.max_norm,
                           norm_type=reference.norm_type, scale_grad_by_freq=reference.scale_grad_by_freq, mode=reference.mode,
                           sparse=reference.sparse, include_last_offset=reference.include_last_offset,
                           padding_idx=reference.padding_idx, _weight=reference.weight.detach().clone(), **knobs)
    return mine


def dense(grad):
    return grad.to_dense() if grad is not None and grad.is_sparse else grad


@pytest.mark.parametrize("wdtype", WEIGHT_DTYPES)
@pytest.mark.parametrize("mode,sparse", [("sum", False), ("mean", False), ("max", False), ("sum", True), ("mean", True)])
@pytest.mark.parametrize("dtype,odtype", INDEX_DTYPES)
def test_known_example(wdtype, mode, sparse, dtype, odtype):
    """test_embedding_bag_device / test_embedding_bag_half / test_embedding_bag_bfloat16
    (_test_EmbeddingBag's known example): 1-D with empty bags, the same as 2-D, all bags empty."""
    es = hn.EmbeddingBag(5, 2, mode=mode, sparse=sparse, dtype=wdtype)
    with torch.no_grad():
        es.weight.copy_(torch.arange(1, 11).view(5, 2).to(wdtype))
    input = torch.tensor([3, 1, 1, 1, 4, 0], dtype=dtype)
    offsets = torch.tensor([0, 0, 3, 3, 6], dtype=odtype)
    grad_output = torch.tensor([1, 2, 3, 4], dtype=wdtype).view(2, 2)
    grad_output_with_empty = torch.tensor([99, 99, 1, 2, 99, 99, 3, 4, 99, 99], dtype=wdtype).view(5, 2)
    if mode in ("sum", "mean"):
        denominator = 1 if mode == "sum" else 3
        expected_output = torch.tensor([[13, 16], [13, 16]], dtype=wdtype) / denominator
        expected_output_with_empty = torch.tensor([[0, 0], [13, 16], [0, 0], [13, 16], [0, 0]], dtype=wdtype) / denominator
        expected_grad_weight = torch.tensor([[3, 4], [5, 8], [0, 0], [1, 2], [3, 4]], dtype=wdtype) / denominator
    else:
        expected_output = torch.tensor([[7, 8], [9, 10]], dtype=wdtype)
        expected_output_with_empty = torch.tensor([[0, 0], [7, 8], [0, 0], [9, 10], [0, 0]], dtype=wdtype)
        expected_grad_weight = torch.tensor([[0, 0], [0, 0], [0, 0], [1, 2], [3, 4]], dtype=wdtype)
    output = es(input, offsets)
    output.backward(grad_output_with_empty)
    assert es.weight.grad.is_sparse == sparse
    torch.testing.assert_close(output, expected_output_with_empty)
    torch.testing.assert_close(dense(es.weight.grad), expected_grad_weight, atol=PRECISION[wdtype], rtol=0)

    es.zero_grad()
    output = es(input.view(2, -1))
    output.backward(grad_output)
    torch.testing.assert_close(output, expected_output)
    torch.testing.assert_close(dense(es.weight.grad), expected_grad_weight, atol=PRECISION[wdtype], rtol=0)

    es.zero_grad()
    es(torch.tensor([], dtype=dtype), torch.tensor([0, 0, 0, 0], dtype=odtype)).sum().backward()
    assert torch.equal(dense(es.weight.grad), torch.zeros_like(es.weight))


def vs_embedding(N, D, B, L, max_norm=None, mode="mean", wdtype=torch.float32, dtype=torch.int64, per_sample_weights=False,
                 trainable_weights=False, sparse=False):
    """_test_EmbeddingBag_vs_Embedding: bags of L against nn.Embedding then a sum, mean or max."""
    es = hn.EmbeddingBag(N, D, mode=mode, sparse=sparse, max_norm=max_norm, dtype=wdtype)
    e = nn.Embedding(N, D, max_norm=max_norm).to(wdtype)
    e.weight.data.copy_(es.weight)
    input = torch.randint(N, (B, L), dtype=dtype)
    offsets = torch.arange(0, B, dtype=dtype).mul_(L)
    grad_output = torch.rand(B, D, dtype=wdtype)
    if per_sample_weights:
        weights = torch.randn(B, L, dtype=wdtype).softmax(dim=-1)
        weights_reference = weights.clone().requires_grad_(trainable_weights)
        weights.requires_grad_(trainable_weights)
        output = es(input.view(-1), offsets, weights.view(-1))
        ref_output = (e(input.long()) * weights_reference.unsqueeze(-1)).sum(1)
    else:
        output = es(input.view(-1), offsets)
        pooled = e(input.long())
        ref_output = pooled.sum(1) if mode == "sum" else pooled.mean(1) if mode == "mean" else pooled.max(1)[0]
    torch.testing.assert_close(output, ref_output, atol=PRECISION[wdtype], rtol=0)
    output.backward(grad_output)
    ref_output.backward(grad_output)
    torch.testing.assert_close(dense(es.weight.grad), e.weight.grad, atol=PRECISION[wdtype] * 5, rtol=0.02 if wdtype == torch.float16 else 0)
    if per_sample_weights and trainable_weights:
        torch.testing.assert_close(weights.grad, weights_reference.grad, atol=PRECISION[wdtype], rtol=0)


@pytest.mark.parametrize("wdtype", WEIGHT_DTYPES)
@pytest.mark.parametrize("mode,sparse", [("sum", False), ("mean", False), ("max", False), ("sum", True), ("mean", True)])
def test_vs_embedding_with_max_norm(wdtype, mode, sparse):
    """test_embedding_bag_device (_test_EmbeddingBag's comparison with Embedding, with and without max_norm)."""
    random.seed(0)
    torch.manual_seed(0)
    N, D, B, L = random.randint(1, 100), random.randint(1, 100), random.randint(1, 50), random.randint(1, 50)
    vs_embedding(N, D, B, L, mode=mode, sparse=sparse, wdtype=wdtype)
    for max_norm in (None, 3):
        for p in itertools.product([1, 2], repeat=4):
            vs_embedding(*p, max_norm=max_norm, mode=mode, sparse=sparse, wdtype=wdtype)


@pytest.mark.parametrize("sparse,trainable", list(itertools.product((True, False), (True, False))))
@pytest.mark.parametrize("dtype", (torch.int32, torch.int64))
def test_per_sample_weights_and_no_offsets(sparse, trainable, dtype):
    """test_EmbeddingBag_per_sample_weights_and_no_offsets: the simple case, B × L > 1000, many rows, a wide row."""
    torch.manual_seed(1)
    for shape in ((2, 3, 5, 7), (2, 5, 53, 23), (101, 5, 3, 7), (2, 101, 3, 7)):
        vs_embedding(*shape, mode="sum", per_sample_weights=True, trainable_weights=trainable, sparse=sparse, dtype=dtype)


def reference_impl(input, weight, offsets, mode="sum", per_sample_weights=None, include_last_offset=False):
    """_embedding_bag_reference_impl: bag by bag with index_select and narrow."""
    if per_sample_weights is None:
        per_sample_weights = torch.ones(input.size()).to(dtype=weight.dtype)
    embeddings = weight.index_select(0, input.long()) * per_sample_weights.unsqueeze(1)
    starts = offsets[:-1] if include_last_offset else offsets
    ends = list(offsets[1:]) + ([] if include_last_offset else [len(input)])
    bags = []
    for offset, end in zip(starts, ends):
        length = int(end - offset)
        if length == 0:
            bags.append(torch.zeros(weight.size(1), dtype=embeddings.dtype))
        elif mode == "sum":
            bags.append(embeddings.narrow(0, int(offset), length).sum(0))
        elif mode == "mean":
            bags.append(embeddings.narrow(0, int(offset), length).sum(0).div(length))
        else:
            bags.append(embeddings.narrow(0, int(offset), length).max(0)[0])
    return torch.stack(bags)


@pytest.mark.parametrize("wdtype", WEIGHT_DTYPES)
@pytest.mark.parametrize("dtype,odtype", INDEX_DTYPES)
@pytest.mark.parametrize("mode,has_weight", [("sum", True), ("max", False), ("mean", False)])
@pytest.mark.parametrize("trainable,include_last_offset", list(itertools.product((True, False), (True, False))))
def test_per_sample_weights_and_new_offsets(wdtype, dtype, odtype, mode, has_weight, trainable, include_last_offset):
    """test_EmbeddingBag_per_sample_weights_and_new_offsets (with has_weight=True, mode sum: also
    test_EmbeddingBag_per_sample_weights_and_offsets)."""
    torch.manual_seed(2)
    es = hn.EmbeddingBag(5, 2, mode=mode, include_last_offset=include_last_offset, dtype=wdtype)
    es.weight.data.copy_(torch.arange(1, 11).view_as(es.weight).to(wdtype))
    input = torch.tensor([3, 1, 1, 1, 4, 0], dtype=dtype)
    offsets = torch.tensor([0, 0, 3, 3, 6] + ([6] if include_last_offset else []), dtype=odtype)
    weights = torch.randn_like(input, dtype=wdtype).requires_grad_(trainable) if has_weight else None
    weights_reference = None if weights is None else weights.detach().requires_grad_(trainable)
    reference_weights = es.weight.detach().requires_grad_()
    expected = reference_impl(input, reference_weights, offsets, mode, weights_reference, include_last_offset)
    result = es(input, offsets, weights)
    torch.testing.assert_close(result, expected, atol=PRECISION[wdtype], rtol=0)
    grad = torch.randn_like(expected)
    result.backward(grad)
    expected.backward(grad)
    torch.testing.assert_close(es.weight.grad, reference_weights.grad, atol=PRECISION[wdtype], rtol=0)
    if has_weight and trainable:
        torch.testing.assert_close(weights.grad, weights_reference.grad, atol=PRECISION[wdtype], rtol=0)


@pytest.mark.parametrize("wdtype", WEIGHT_DTYPES)
@pytest.mark.parametrize("trainable", (True, False))
def test_empty_per_sample_weights_and_offsets(wdtype, trainable):
    """test_EmbeddingBag_empty_per_sample_weights_and_offsets: no indices, five empty bags, a zero gradient."""
    es = hn.EmbeddingBag(5, 2, mode="sum", dtype=wdtype)
    input = torch.tensor([], dtype=torch.int64)
    weights = torch.randn_like(input, dtype=wdtype).requires_grad_(trainable)
    result = es(input, torch.zeros(5, dtype=torch.int64), weights)
    assert torch.equal(result, torch.zeros(5, 2, dtype=wdtype))
    result.backward(torch.randn_like(result))
    assert torch.equal(es.weight.grad, torch.zeros_like(es.weight))
    if trainable:
        assert weights.grad.shape == (0,)


@pytest.mark.parametrize("dtype,odtype", INDEX_DTYPES)
@pytest.mark.parametrize("sparse", (True, False))
def test_empty_input(dtype, odtype, sparse):
    """test_embedding_bag_empty_input: no indices with one and with two offsets gives zeros."""
    embed = hn.EmbeddingBag(4, 3, sparse=sparse)
    x = torch.tensor([], dtype=dtype)
    for offsets in ([0], [0, 0]):
        output = embed(input=x, offsets=torch.tensor(offsets, dtype=odtype))
        assert torch.equal(output, torch.zeros_like(output)) and output.shape == (len(offsets), 3)


@pytest.mark.parametrize("mode", ("max", "mean", "sum"))
@pytest.mark.parametrize("sparse,include_last_offset,allpad", list(itertools.product((False, True), repeat=3)))
def test_1D_padding_idx(mode, sparse, include_last_offset, allpad):
    """test_embedding_bag_1D_padding_idx: 1-D bags with a full and an empty bag, every index in turn as padding_idx."""
    if mode == "max" and sparse:
        pytest.skip("max mode does not support sparse weights (as in torch: refused, tested below)")
    random.seed(3)
    torch.manual_seed(3)
    indices, offsets, position = [], [], 0
    empty_bag, full_bag = 2, 5
    for bag in range(10):
        offsets.append(position)
        size = 10 if bag == full_bag else 0 if bag == empty_bag else random.randint(1, 9)
        indices += [1 if allpad else random.randint(0, 99) for _ in range(size)]
        position += size
    if include_last_offset:
        offsets.append(len(indices))
    indices, offsets = torch.tensor(indices), torch.tensor(offsets)
    for padding_idx in sorted(set(indices.tolist()))[:12] + [None]:
        reference = nn.EmbeddingBag(100, 3, mode=mode, sparse=sparse, include_last_offset=include_last_offset, padding_idx=padding_idx)
        mine = twin(reference)
        expected, got = reference(indices, offsets), mine(indices, offsets)
        torch.testing.assert_close(got, expected, msg=f"padding {padding_idx}")
        expected.sum().backward()
        got.sum().backward()
        torch.testing.assert_close(dense(mine.weight.grad), dense(reference.weight.grad), msg=f"padding {padding_idx}")
        if padding_idx is not None:
            assert not dense(mine.weight.grad)[padding_idx].any()


@pytest.mark.parametrize("mode", ("max", "mean", "sum"))
@pytest.mark.parametrize("wdtype", (torch.float32, torch.float16))
@pytest.mark.parametrize("sparse,allpad,rows", list(itertools.product((False, True), (False, True), (1, 10))))
def test_2D_padding_idx(mode, wdtype, sparse, allpad, rows):
    """test_embedding_bag_2D_padding_idx: 2-D input with one row of one repeated index, each index in turn as padding_idx."""
    if mode == "max" and sparse:
        pytest.skip("max mode does not support sparse weights")
    torch.manual_seed(4)
    indices = torch.ones(rows, 10, dtype=torch.long) if allpad else torch.randint(0, 10, (rows, 10))
    if rows > 1 and not allpad:
        indices[3] = indices[3][0]
    for padding_idx in sorted(set(indices.flatten().tolist())):
        reference = nn.EmbeddingBag(10, 3, mode=mode, sparse=sparse, padding_idx=padding_idx).to(wdtype)
        mine = twin(reference)
        expected, got = reference(indices), mine(indices)
        tolerance = dict(atol=0.01, rtol=0.01) if wdtype == torch.float16 else {}
        torch.testing.assert_close(got, expected, **tolerance)
        expected.sum().backward()
        got.sum().backward()
        torch.testing.assert_close(dense(mine.weight.grad), dense(reference.weight.grad), **tolerance)


@pytest.mark.parametrize("mode", ("sum", "mean", "max"))
@pytest.mark.parametrize("padding_idx", (None, 0))
@pytest.mark.parametrize("idx_dtype", (torch.int32, torch.int64))
def test_out_of_bounds_idx(mode, padding_idx, idx_dtype):
    """test_embedding_bag_out_of_bounds_idx: -1 and 11 in a 10-row table, with and without weights."""
    bag = hn.EmbeddingBag(10, 2, mode=mode, padding_idx=padding_idx)
    for idx in (torch.tensor([[-1, 1]], dtype=idx_dtype), torch.tensor([[11, 8]], dtype=idx_dtype)):
        for weights in ((None, torch.randn(1, 2)) if mode == "sum" else (None,)):
            with pytest.raises(HostMemValueError, match="outside the table"):
                bag(idx, per_sample_weights=weights)


@pytest.mark.parametrize("dtype,odtype", INDEX_DTYPES)
def test_per_sample_weights_failures(dtype, odtype):
    """test_EmbeddingBag_per_sample_weights_failures: another dtype, another shape (1-D and 2-D), mode max and mean."""
    es = hn.EmbeddingBag(5, 2, mode="sum")
    input = torch.tensor([3, 1, 1, 1, 4, 0], dtype=dtype)
    offsets = torch.tensor([0, 0, 3, 3, 6], dtype=odtype)
    with pytest.raises(HostMemTypeError, match="dtype"):
        es(input, offsets, torch.randn_like(input, dtype=torch.double))
    with pytest.raises(HostMemValueError, match="shape of input"):
        es(input, offsets, torch.randn(5))
    with pytest.raises(HostMemValueError, match="shape of input"):
        es(torch.randint(5, (7, 3), dtype=dtype), None, torch.randn(7 * 3))
    for mode in ("max", "mean"):
        with pytest.raises(HostMemNotImplementedError, match="only supported for mode='sum'"):
            hn.EmbeddingBag(5, 2, mode=mode)(torch.randint(5, (7, 3), dtype=dtype), None, torch.randn(7, 3))


def test_illegal_input_combinations():
    """_test_EmbeddingBag's last checks and test_embedding_bag_dimension_errors: 2-D input with
    offsets, 1-D without, offsets[0] not 0, an offset past the end, 5-D input, 5-D offsets."""
    es = hn.EmbeddingBag(10, 20, mode="sum")
    input = torch.ones(3, 4, dtype=torch.long)
    offset = torch.arange(0, 3)
    with pytest.raises(ValueError):
        es(input, offset)
    with pytest.raises(ValueError):
        es(input.view(-1))
    offset[0] = 1
    with pytest.raises(HostMemValueError, match="offsets\\[0\\] has to be 0"):
        es(input.view(-1), offset)
    offset[0], offset[-1] = 0, 100
    with pytest.raises(HostMemValueError, match="can not be greater"):
        es(input.view(-1), offset)
    with pytest.raises(HostMemValueError, match="input has to be 1D or 2D Tensor"):
        es(torch.full((2, 0, 0, 6, 6), 2), torch.zeros((2, 0, 0, 6, 6), dtype=torch.long))
    with pytest.raises(HostMemValueError, match="offsets has to be a 1D Tensor"):
        es(torch.full((2,), 1), torch.zeros((2, 0, 0, 6, 6), dtype=torch.long))
    with pytest.raises(HostMemValueError, match="expected to be 2-dimensional"):
        hn.EmbeddingBag.from_pretrained(torch.zeros(2, 2, 2))
    es.weight = nn.Parameter(torch.zeros(2, 2, 2))
    with pytest.raises(HostMemValueError, match="weight has to be a 2D Tensor"):
        es(torch.full((2,), 1), torch.zeros(1, dtype=torch.long))


def test_padding_idx_error():
    """test_embedding_bag_padding_idx_error: padding_idx outside [-rows, rows) is refused, inside accepted."""
    for padding_idx in range(-6, 6):
        if padding_idx < -4 or padding_idx >= 4:
            with pytest.raises(HostMemValueError, match="padding_idx must be within num_embeddings"):
                hn.EmbeddingBag(4, 3, padding_idx=padding_idx)
        else:
            assert hn.EmbeddingBag(4, 3, padding_idx=padding_idx).padding_idx == padding_idx % 4


def test_from_pretrained_and_functional():
    """test_embedding_bag_from_pretrained, test_embeddingbag_from_pretrained,
    test_embedding_bag_from_pretrained_padding_idx, test_embedding_bag_functional."""
    a = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    embedding = hn.EmbeddingBag.from_pretrained(a)
    assert torch.equal(embedding.weight, a) and not embedding.weight.requires_grad
    assert torch.equal(embedding(torch.tensor([0, 1]), torch.arange(2)), a)
    torch.testing.assert_close(embedding(torch.LongTensor([[0, 1]])), a.mean(0, keepdim=True))
    embeddings = torch.rand(4, 3, requires_grad=True)
    assert torch.equal(hn.EmbeddingBag.from_pretrained(embeddings, padding_idx=2).weight, embeddings)
    x = torch.tensor([[1, 3, 2], [0, 2, 1]])
    torch.testing.assert_close(hn.EmbeddingBag.from_pretrained(embeddings)(x), F.embedding_bag(x, embeddings))
    torch.testing.assert_close(hn.EmbeddingBag.from_pretrained(embeddings, padding_idx=2)(x), F.embedding_bag(x, embeddings, padding_idx=2))


def test_from_pretrained_options():
    """test_embeddingbag_from_pretrained_options (float32: float64 tables are not supported):
    mode max, max_norm 2 with norm_type 0.5 renormalises the table in place."""
    a = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    bag = hn.EmbeddingBag.from_pretrained(a, max_norm=2.0, norm_type=0.5, mode="max")
    output = bag(torch.LongTensor([[0, 1]]))
    assert torch.equal(a.max(0, keepdim=True)[0], output)
    assert a.ne(torch.arange(1, 7, dtype=a.dtype).view(2, 3)).all()
    assert a.norm(p=0.5, dim=1).le(2.0 + 1e-5).all()  # float32 (upstream: float64)


def test_include_last_offset_with_padding():
    """test_embeddingbag_include_last_offset (pytorch issue 89677): offsets [0, 3, 4] end the last
    bag at the last index. A last offset short of the indices ([0, 3, 3]) is refused with a
    padding_idx or in mode mean or max, where torch runs that bag to the end of the indices
    (without padding_idx a sum ends it at the offset): checked against torch here."""
    input = torch.tensor([0, 1, 2, 3])
    for mode in ("sum", "mean", "max"):
        reference = nn.EmbeddingBag(100, 3, include_last_offset=True, padding_idx=61, mode=mode)
        mine = twin(reference)
        torch.testing.assert_close(mine(input, torch.tensor([0, 3, 4])), reference(input, torch.tensor([0, 3, 4])))
        with pytest.raises(HostMemValueError, match="last offset must be the number of indices"):
            mine(input, torch.tensor([0, 3, 3]))
        # torch's own result for the short offsets: the last bag runs on to index 3
        torch.testing.assert_close(reference(input, torch.tensor([0, 3, 3]))[1], reference.weight[3])
    reference = nn.EmbeddingBag(100, 3, include_last_offset=True, mode="sum")
    torch.testing.assert_close(twin(reference)(input, torch.tensor([0, 3, 3])), reference(input, torch.tensor([0, 3, 3])))


@pytest.mark.parametrize("wdtype", WEIGHT_DTYPES)
def test_non_contiguous_weight(wdtype):
    """test_embedding_bag_non_contiguous_weight: a strided weight gives what its contiguous copy gives."""
    weight = torch.randn(3, 4, dtype=wdtype)[:, :3]
    index, offsets = torch.tensor([0, 1, 2]), torch.tensor([0, 2])
    for mode in ("sum", "mean", "max"):
        strided = hn.EmbeddingBag.from_pretrained(weight, mode=mode)
        packed = hn.EmbeddingBag.from_pretrained(weight.contiguous(), mode=mode)
        assert torch.equal(strided(index, offsets), packed(index, offsets))


@pytest.mark.parametrize("bag_use_grad,weights_use_grad", list(itertools.product((True, False), repeat=2)))
def test_per_sample_weights_grad(bag_use_grad, weights_use_grad):
    """test_embedding_bag_per_sample_weights_grad: any mix of gradients wanted; checked against torch."""
    reference = nn.EmbeddingBag(256, 256, mode="sum")
    mine = twin(reference)
    for bag in (reference, mine):
        bag.requires_grad_(bag_use_grad)
    x = torch.arange(1, 5).expand(3, -1)
    w = torch.rand(3, 4)
    results = []
    for bag in (reference, mine):
        scale = w.clone().requires_grad_(weights_use_grad)
        out = bag(x, per_sample_weights=F.softmax(scale, dim=-1))
        if bag_use_grad or weights_use_grad:
            out.sum().backward()
        results.append((out.detach(), None if scale.grad is None else scale.grad, bag.weight.grad))
    torch.testing.assert_close(results[1][0], results[0][0])
    for index in (1, 2):
        assert (results[0][index] is None) == (results[1][index] is None)
        if results[0][index] is not None:
            torch.testing.assert_close(results[1][index], results[0][index])


def test_scale_grad_by_freq_and_sparse_layout():
    """scale_grad_by_freq divides each row's gradient by its count in the batch (dense; with
    sparse gradients torch refuses at the backward, and so does this). A sparse gradient is
    COO, coalesced (one entry per distinct row, padding left out), equal to torch's coalesced:
    torch's has one entry per lookup, which the optimizer coalesces."""
    input, offsets = torch.tensor([1, 1, 3, 5, 1, 7, 3]), torch.tensor([0, 3, 5])
    for sparse in (False, True):
        reference = nn.EmbeddingBag(20, 4, mode="sum", scale_grad_by_freq=not sparse, sparse=sparse, padding_idx=3)
        mine = twin(reference)
        for bag in (reference, mine):
            bag(input, offsets).pow(2).sum().backward()
        assert mine.weight.grad.is_sparse == sparse
        if sparse:
            theirs = reference.weight.grad.coalesce()
            # one entry per distinct row (autograd may drop the coalesced flag as it stores the gradient)
            assert mine.weight.grad._nnz() == theirs._nnz() == 3 < reference.weight.grad._nnz()
            assert torch.equal(mine.weight.grad._indices(), theirs._indices())
            torch.testing.assert_close(mine.weight.grad._values(), theirs._values())
        else:
            torch.testing.assert_close(mine.weight.grad, reference.weight.grad)
    reference = nn.EmbeddingBag(20, 4, mode="sum", scale_grad_by_freq=True, sparse=True)
    with pytest.raises(RuntimeError, match="scale_grad_by_freq not supported with sparse"):
        reference(input, offsets).sum().backward()
    with pytest.raises(HostMemNotImplementedError, match="scale_grad_by_freq not supported with sparse"):
        twin(reference)(input, offsets).sum().backward()


def test_refusals():
    """What is not supported says so: max with sparse (torch refuses too), float64 and integer
    tables, a weight moved off the CPU is checked at the call."""
    with pytest.raises(HostMemValueError, match="max mode does not support sparse"):
        hn.EmbeddingBag(4, 2, mode="max", sparse=True)
    with pytest.raises(ValueError):
        nn.EmbeddingBag(4, 2, mode="max", sparse=True)(torch.tensor([[0, 1]])).sum().backward()
    with pytest.raises(HostMemTypeError, match="float32, float16 or bfloat16"):
        hn.EmbeddingBag(4, 2, dtype=torch.float64)
    with pytest.raises(HostMemValueError, match="mode has to be one of"):
        hn.EmbeddingBag(4, 2, mode="median")
    with pytest.raises(HostMemTypeError, match="int32 or int64"):
        hn.EmbeddingBag(4, 2)(torch.tensor([[0.0, 1.0]]))
    with pytest.raises(HostMemValueError, match="threads"):
        hn.EmbeddingBag(4, 2, threads=0)
    bag = hn.EmbeddingBag(4, 2)
    bag.weight = nn.Parameter(torch.zeros(4, 2, dtype=torch.float64))
    with pytest.raises(HostMemTypeError, match="float32, float16 or bfloat16"):
        bag(torch.tensor([[0, 1]]))


def test_module_conversion_keeps_working():
    """.to(float16) and .half() convert the Parameter as torch's module does; lookups follow the new weight."""
    reference = nn.EmbeddingBag(30, 8, mode="sum")
    mine = twin(reference)
    x = torch.randint(0, 30, (4, 5))
    for convert in (lambda m: m.to(torch.float16), lambda m: m.bfloat16(), lambda m: m.float()):
        reference, mine = convert(reference), convert(mine)
        assert mine.weight.dtype == reference.weight.dtype
        torch.testing.assert_close(mine(x), reference(x), atol=1e-2, rtol=1e-2)


@pytest.mark.parametrize("optimizer,sparse", [("sgd", False), ("sgd", True), ("adagrad", True), ("adam", False)])
def test_training_equals_torch(optimizer, sparse):
    """The same model trained 30 steps, hostmem.nn.EmbeddingBag versus nn.EmbeddingBag: the
    losses at every step and the weights at the end equal within float tolerance."""
    torch.manual_seed(5)
    rows, dim, bags, pooling = 2000, 32, 64, 8

    def model(bag_class, seed):
        torch.manual_seed(seed)
        bag = bag_class(rows, dim, mode="sum", sparse=sparse)
        head = nn.Linear(dim, 1)
        return bag, head

    reference_bag, reference_head = model(nn.EmbeddingBag, 7)
    mine_bag, mine_head = model(lambda *a, **k: hn.EmbeddingBag(*a, prefetch_style="burst", **k), 7)
    assert torch.equal(reference_bag.weight, mine_bag.weight)

    def optimizers(bag, head):
        if optimizer == "sgd":
            return [torch.optim.SGD(list(bag.parameters()) + list(head.parameters()), lr=0.05)]
        if optimizer == "adagrad":
            return [torch.optim.Adagrad(bag.parameters(), lr=0.05), torch.optim.Adagrad(head.parameters(), lr=0.05)]
        return [torch.optim.Adam(list(bag.parameters()) + list(head.parameters()), lr=0.01)]

    reference_opt, mine_opt = optimizers(reference_bag, reference_head), optimizers(mine_bag, mine_head)
    generator = torch.Generator().manual_seed(11)
    for step in range(30):
        indices = torch.randint(0, rows, (bags * pooling,), generator=generator)
        indices[::7] = indices[0]  # repeated rows within a batch
        offsets = torch.arange(0, bags * pooling, pooling)
        weights = torch.rand(bags * pooling, generator=generator)
        target = torch.randn(bags, 1, generator=generator)
        losses = []
        for bag, head, opts in ((reference_bag, reference_head, reference_opt), (mine_bag, mine_head, mine_opt)):
            for opt in opts:
                opt.zero_grad()
            loss = F.mse_loss(head(bag(indices, offsets, weights)), target)
            loss.backward()
            for opt in opts:
                opt.step()
            losses.append(loss.item())
        assert losses[1] == pytest.approx(losses[0], rel=1e-4, abs=1e-6), f"step {step}"
    torch.testing.assert_close(mine_bag.weight, reference_bag.weight, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(mine_head.weight, reference_head.weight, atol=1e-5, rtol=1e-4)
    assert not torch.equal(mine_bag.weight, model(nn.EmbeddingBag, 7)[0].weight)  # it trained


@pytest.mark.parametrize("backend", ["aot_eager"] + (["inductor"] if shutil.which("g++") or shutil.which("c++") else []))
def test_torch_compile(backend):
    """torch.compile sees one operator (torch.ops.hostmem.bag_forward, with its fake and its
    autograd): forward and gradients under compile equal eager's."""
    torch.manual_seed(6)
    bag = hn.EmbeddingBag(50, 16, mode="mean")
    head = nn.Linear(16, 2)

    def step(x, offsets):
        return head(bag(x, offsets)).square().sum()

    x, offsets = torch.randint(0, 50, (40,)), torch.tensor([0, 5, 5, 17, 30])
    eager = step(x, offsets)
    eager.backward()
    expected_grad = bag.weight.grad.clone()
    bag.weight.grad = None
    head.zero_grad()
    compiled = torch.compile(step, backend=backend, fullgraph=True)
    got = compiled(x, offsets)
    got.backward()
    torch.testing.assert_close(got, eager)
    torch.testing.assert_close(bag.weight.grad, expected_grad)


def test_quantized_byte_rowwise_equals_torch():
    """test_embedding_bag_byte (test/quantization/core/test_quantized_op.py): hostmem's 8-bit
    row-wise table against torch.ops.quantized.embedding_bag_byte_rowwise_offsets on the table
    FBGEMM prepacks (the same scale and bias per row), with and without weights; mean is the sum over the bag's size."""
    torch.manual_seed(8)
    weight = torch.randn(1000, 64)
    prepacked = torch.ops.quantized.embedding_bag_byte_prepack(weight)
    indices = torch.randint(0, 1000, (300,))
    offsets = torch.tensor([0, 10, 10, 50, 120, 299])
    weights = torch.rand(300)
    bag = hn.QuantizedEmbeddingBag(weight, mode="sum")
    for per_sample in (None, weights):
        expected = torch.ops.quantized.embedding_bag_byte_rowwise_offsets(prepacked, indices, offsets, mode=0,
                                                                          per_sample_weights=per_sample, include_last_offset=False)
        # sums of up to 180 rows, added in another order
        torch.testing.assert_close(bag(indices, offsets, per_sample), expected, atol=1e-3, rtol=1e-3)
    # mode mean (which this torch op does not take: it sums): the sum over each bag's size
    sizes = torch.diff(offsets, append=torch.tensor([300])).clamp(min=1).unsqueeze(1).float()
    torch.testing.assert_close(hn.QuantizedEmbeddingBag(weight, mode="mean")(indices, offsets), bag(indices, offsets) / sizes)
    # from a float module, and its error within half a step of the float result
    module = nn.EmbeddingBag.from_pretrained(weight, mode="sum")
    quantized = hn.QuantizedEmbeddingBag.from_float(module)
    step = (weight.max(1).values - weight.min(1).values) / 255
    error = (quantized(indices, offsets) - module(indices, offsets)).abs()
    bound = torch.stack([step[indices[s:e]].sum() / 2 for s, e in zip(offsets.tolist(), offsets.tolist()[1:] + [300])])
    assert (error.max(1).values <= bound + 1e-4).all()
    with pytest.raises(HostMemNotImplementedError):
        hn.QuantizedEmbeddingBag(weight, mode="max")
    assert isinstance(HostMemNotImplementedError("x"), HostMemError)


def test_huge_pages_under_the_weight():
    """The module puts its weight on transparent huge pages (values unchanged) unless told not
    to; where the kernel refuses (THP off), the state says so and the module works the same."""
    with open("/sys/kernel/mm/transparent_hugepage/enabled") as setting:
        thp = setting.read()
    weight = torch.randn(1 << 17, 128)  # 64 MiB
    before = weight.clone()
    bag = hn.EmbeddingBag.from_pretrained(weight, mode="sum")
    assert torch.equal(bag.weight, before)
    if "[never]" in thp:
        assert bag.huge_pages_state.startswith("refused")
    else:
        assert bag.huge_pages_state.split()[0].isdigit() and int(bag.huge_pages_state.split()[0]) >= 60, bag.huge_pages_state
        advised, huge_now = hn.huge_pages(weight, collapse=False)
        assert advised >= 60 << 20 and huge_now >= 2 << 20
    off = hn.EmbeddingBag.from_pretrained(torch.randn(1 << 17, 128), huge_pages=False)
    assert off.huge_pages_state == "not asked for"
    x = torch.randint(0, 1 << 17, (64, 8))
    torch.testing.assert_close(bag(x), F.embedding_bag(x, before, mode="sum"))
