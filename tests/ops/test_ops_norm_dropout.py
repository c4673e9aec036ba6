"""Batch norm, layer norm, dropout and embedding ops: NumPy reference, float64 gradient
checks, and the fused ops against the same computation composed from primitive ops."""

import numpy as np
import pytest

import nnlab.functional as F
from nnlab import Tensor, gradcheck

from oracles import check_op, random_inputs

EPS = 1e-5


# ---- NumPy references ---------------------------------------------------------------------


def batch_norm_ref(x, weight=None, bias=None, mean=None, var=None, eps=EPS):
    """Normalise per channel (axis 1); batch statistics (biased) unless mean/var given."""
    axes = (0,) + tuple(range(2, x.ndim))
    view = (1, -1) + (1,) * (x.ndim - 2)
    if mean is None:
        mean, var = x.mean(axis=axes), x.var(axis=axes)
    y = (x - mean.reshape(view)) / np.sqrt(var.reshape(view) + eps)
    if weight is not None:
        y = y * weight.reshape(view)
    return y if bias is None else y + bias.reshape(view)


def layer_norm_ref(x, k, weight=None, bias=None, eps=EPS):
    axes = tuple(range(x.ndim - k, x.ndim))
    y = (x - x.mean(axis=axes, keepdims=True)) / np.sqrt(x.var(axis=axes, keepdims=True) + eps)
    if weight is not None:
        y = y * weight
    return y if bias is None else y + bias


BN_SHAPES = [(4, 3), (6, 1), (3, 2, 5), (2, 3, 3, 2), (2, 2, 2, 2, 3)]


# ---- batch norm ---------------------------------------------------------------------------


@pytest.mark.parametrize("shape", BN_SHAPES)
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_training_matches_reference(shape, affine):
    c = shape[1]
    shapes = [shape] + ([(c,), (c,)] if affine else [])

    def fn(x, w=None, b=None):
        return F.batch_norm(x, None, None, w, b, training=True)

    def ref(x, w=None, b=None):
        return batch_norm_ref(x, w, b)

    check_op(fn, ref, shapes, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("shape", BN_SHAPES)
def test_batch_norm_eval_matches_reference(shape):
    c = shape[1]
    rng = np.random.default_rng(1)
    running_mean, running_var = rng.normal(size=c), rng.uniform(0.5, 2.0, size=c)

    def fn(x, w, b):
        return F.batch_norm(x, running_mean, running_var, w, b, training=False)

    def ref(x, w, b):
        return batch_norm_ref(x, w, b, running_mean, running_var)

    check_op(fn, ref, [shape, (c,), (c,)])


def test_batch_norm_updates_running_stats_in_place_with_unbiased_variance():
    x = random_inputs([(8, 3, 4)], seed=2)[0]
    running_mean, running_var = np.full(3, 0.5), np.full(3, 2.0)
    ids = id(running_mean), id(running_var)
    F.batch_norm(Tensor(x), running_mean, running_var, training=True, momentum=0.3)
    batch_mean, batch_var = x.mean(axis=(0, 2)), x.var(axis=(0, 2), ddof=1)
    np.testing.assert_allclose(running_mean, 0.7 * 0.5 + 0.3 * batch_mean, rtol=1e-12)
    np.testing.assert_allclose(running_var, 0.7 * 2.0 + 0.3 * batch_var, rtol=1e-12)
    assert (id(running_mean), id(running_var)) == ids


def test_batch_norm_eval_leaves_running_stats_alone():
    running_mean, running_var = np.zeros(3), np.ones(3)
    F.batch_norm(Tensor(np.ones((4, 3))), running_mean, running_var, training=False)
    np.testing.assert_array_equal(running_mean, 0.0)
    np.testing.assert_array_equal(running_var, 1.0)


def test_batch_norm_errors():
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.batch_norm(Tensor(np.ones((1, 3))), None, None, training=True)
    with pytest.raises(ValueError, match="needs running_mean"):
        F.batch_norm(Tensor(np.ones((4, 3))), None, None, training=False)


def _batch_norm_composed(x, w, b, running_mean=None, running_var=None):
    """Batch norm from primitive Tensor ops (mean, var, sqrt, arithmetic)."""
    axes = (0,) + tuple(range(2, x.ndim))
    view = (1, -1) + (1,) * (x.ndim - 2)
    if running_mean is None:
        mean = x.mean(axis=axes, keepdims=True)
        var = x.var(axis=axes, keepdims=True, correction=0)
    else:
        mean, var = Tensor(running_mean.reshape(view)), Tensor(running_var.reshape(view))
    return (x - mean) / (var + EPS).sqrt() * w.reshape(view) + b.reshape(view)


def _assert_same_forward_and_backward(fused_fn, composed_fn, arrays, seed=0):
    fused = [Tensor(a, requires_grad=True) for a in arrays]
    plain = [Tensor(a, requires_grad=True) for a in arrays]
    y1, y2 = fused_fn(*fused), composed_fn(*plain)
    np.testing.assert_allclose(y1.data, y2.data, rtol=1e-10, atol=1e-12)
    g = np.random.default_rng(seed).normal(size=y1.shape)
    y1.backward(g)
    y2.backward(g)
    for f, p in zip(fused, plain, strict=True):
        np.testing.assert_allclose(f.grad, p.grad, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("shape", BN_SHAPES)
@pytest.mark.parametrize("training", [True, False])
def test_fused_batch_norm_equals_composition(shape, training):
    c = shape[1]
    x, w, b = random_inputs([shape, (c,), (c,)], seed=3)
    stats = (None, None) if training else (np.linspace(-1, 1, c), np.linspace(0.5, 2, c))

    def fused(x, w, b):
        mean, var = (None, None) if training else (stats[0].copy(), stats[1].copy())
        return F.batch_norm(x, mean, var, w, b, training=training)

    _assert_same_forward_and_backward(
        fused, lambda x, w, b: _batch_norm_composed(x, w, b, *stats), [x, w, b]
    )


@pytest.mark.parametrize("shape", [(4, 3), (3, 2, 5), (2, 3, 3, 2), (20, 4, 6)])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_gradcheck(shape, training):
    c = shape[1]
    x, w, b = random_inputs([shape, (c,), (c,)], seed=4)
    stats = np.linspace(-0.5, 0.5, c), np.linspace(0.5, 1.5, c)

    def fn(x, w, b):
        return F.batch_norm(x, stats[0].copy(), stats[1].copy(), w, b, training=training)

    assert gradcheck(fn, [Tensor(a, requires_grad=True) for a in (x, w, b)])


# ---- layer norm ---------------------------------------------------------------------------

LN_CASES = [
    ((4, 5), (5,)),
    ((6,), (6,)),
    ((2, 3, 4), (4,)),
    ((2, 3, 4), (3, 4)),
    ((3, 2, 2, 3), (2, 3)),
]


@pytest.mark.parametrize("shape,normalized", LN_CASES)
@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm_matches_reference(shape, normalized, affine):
    shapes = [shape] + ([normalized, normalized] if affine else [])

    def fn(x, w=None, b=None):
        return F.layer_norm(x, normalized, w, b)

    def ref(x, w=None, b=None):
        return layer_norm_ref(x, len(normalized), w, b)

    check_op(fn, ref, shapes, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("shape,normalized", LN_CASES + [((16, 10, 8), (10, 8))])
def test_fused_layer_norm_equals_composition(shape, normalized):
    x, w, b = random_inputs([shape, normalized, normalized], seed=5)
    axes = tuple(range(len(shape) - len(normalized), len(shape)))

    def composed(x, w, b):
        mean = x.mean(axis=axes, keepdims=True)
        var = x.var(axis=axes, keepdims=True, correction=0)
        return (x - mean) / (var + EPS).sqrt() * w + b

    _assert_same_forward_and_backward(
        lambda x, w, b: F.layer_norm(x, normalized, w, b), composed, [x, w, b]
    )


def test_layer_norm_gradcheck_large_input_and_bias_only():
    x, b = random_inputs([(8, 6, 5), (6, 5)], seed=6)
    tensors = [Tensor(x, requires_grad=True), Tensor(b, requires_grad=True)]
    assert gradcheck(lambda x, b: F.layer_norm(x, (6, 5), None, b), tensors)


def test_layer_norm_rejects_wrong_trailing_shape():
    with pytest.raises(ValueError, match=r"last 1 dimension\(s\) are \(5,\), got \(4, 6\)"):
        F.layer_norm(Tensor(np.ones((4, 6))), 5)


# ---- dropout ------------------------------------------------------------------------------


def test_dropout_same_seed_same_mask():
    x = Tensor(np.ones((50, 40)))
    a = F.dropout(x, 0.3, rng=np.random.default_rng(7))
    b = F.dropout(x, 0.3, rng=np.random.default_rng(7))
    c = F.dropout(x, 0.3, rng=np.random.default_rng(8))
    np.testing.assert_array_equal(a.data, b.data)
    assert not np.array_equal(a.data, c.data)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dropout_mask_fraction_and_expected_value(p, dtype):
    n = 1_000_000
    y = F.dropout(Tensor(np.ones(n, dtype)), p, rng=np.random.default_rng(0)).data
    assert y.dtype == dtype
    dropped = np.mean(y == 0)
    # 6 binomial standard deviations: a false failure is practically impossible.
    assert abs(dropped - p) < 6 * np.sqrt(p * (1 - p) / n)
    np.testing.assert_allclose(np.unique(y), [0.0, 1.0 / (1 - p)], rtol=1e-6)
    assert abs(y.mean() - 1.0) < 6 * np.sqrt(p / (1 - p) / n)


def test_dropout_backward_uses_the_forward_mask():
    rng = np.random.default_rng(1)
    x = Tensor(rng.uniform(1, 2, size=(30, 20)), requires_grad=True)
    y = F.dropout(x, 0.4, rng=np.random.default_rng(2))
    g = rng.normal(size=y.shape)
    y.backward(g)
    mask = y.data / x.data  # 0 or 1 / (1 - p), exactly as forward drew it
    np.testing.assert_allclose(x.grad, g * mask, rtol=1e-12)
    assert set(np.round(np.unique(mask), 12)) == {0.0, round(1 / 0.6, 12)}


def test_dropout_gradcheck_with_a_fixed_mask():
    x = Tensor(random_inputs([(6, 7)], seed=3)[0], requires_grad=True)
    assert gradcheck(lambda x: F.dropout(x, 0.5, rng=np.random.default_rng(4)), [x])


def test_dropout_p_one_gives_zeros_without_division_by_zero():
    x = Tensor(np.ones((4, 5)), requires_grad=True)
    with np.errstate(all="raise"):
        y = F.dropout(x, 1.0, rng=np.random.default_rng(0))
        y.backward(np.ones((4, 5)))
    np.testing.assert_array_equal(y.data, 0.0)
    np.testing.assert_array_equal(x.grad, 0.0)


def test_dropout_identity_when_not_training_or_p_zero():
    x = Tensor(np.arange(6.0))
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        F.dropout(x, 1.5)


# ---- embedding ----------------------------------------------------------------------------


def _embedding_grad_ref(indices, g, rows, padding_idx=None):
    grad = np.zeros((rows, g.shape[-1]))
    np.add.at(grad, indices.reshape(-1), g.reshape(-1, g.shape[-1]))
    if padding_idx is not None:
        grad[padding_idx] = 0
    return grad


def test_embedding_forward_picks_rows():
    weight = random_inputs([(7, 3)], seed=0)[0]
    indices = np.array([[0, 6, 2], [2, 2, 5]])
    for dtype in (np.float32, np.float64):
        y = F.embedding(indices, Tensor(weight.astype(dtype)))
        assert y.dtype == dtype
        np.testing.assert_array_equal(y.data, weight.astype(dtype)[indices])


def test_embedding_gradcheck_with_repeated_indices():
    weight = Tensor(random_inputs([(5, 4)], seed=1)[0], requires_grad=True)
    indices = np.array([[1, 3, 1], [1, 0, 3]])
    assert gradcheck(lambda w: F.embedding(indices, w), [weight])


def test_embedding_gradient_accumulates_and_padding_row_gets_none():
    rows, indices = 6, np.array([[1, 2, 1, 4], [2, 2, 0, 1]])
    weight = Tensor(random_inputs([(rows, 3)], seed=2)[0], requires_grad=True)
    g = np.random.default_rng(3).normal(size=(2, 4, 3))
    F.embedding(indices, weight, padding_idx=2).backward(g)
    np.testing.assert_allclose(weight.grad, _embedding_grad_ref(indices, g, rows, 2), rtol=1e-12)
    np.testing.assert_array_equal(weight.grad[2], 0.0)
    # Every other row matches finite differences (the padding row is zero by definition).
    assert gradcheck(lambda w: F.embedding(indices, w, padding_idx=5), [weight])


def test_embedding_large_scatter_matches_add_at():
    rng = np.random.default_rng(4)
    indices = rng.integers(0, 1000, size=(64, 160))
    weight = Tensor(rng.normal(size=(1000, 64)).astype(np.float32), requires_grad=True)
    g = rng.normal(size=(64, 160, 64)).astype(np.float32)
    F.embedding(indices, weight).backward(g)
    assert weight.grad.dtype == np.float32
    np.testing.assert_allclose(weight.grad, _embedding_grad_ref(indices, g, 1000), atol=1e-4)


@pytest.mark.parametrize("bad", [[0, 10], [-1, 3]])
def test_embedding_out_of_range_names_the_range(bad):
    with pytest.raises(IndexError, match=r"must lie in \[0, 9\]"):
        F.embedding(np.array(bad), Tensor(np.zeros((10, 2))))


def test_embedding_rejects_float_indices():
    with pytest.raises(TypeError, match="must be integers"):
        F.embedding(np.array([0.0, 1.0]), Tensor(np.zeros((10, 2))))
