"""Fused loss ops: forward against plain NumPy, float64 gradient checks (input and, where
differentiable, target), fused cross-entropy against its composition from primitives,
numerical stability under np.errstate(all='raise'), dtypes and error messages."""

import numpy as np
import pytest

import nnlab.functional as F
from nnlab import Tensor, gradcheck
from nnlab.autograd.tensor import apply
from nnlab.ops import cross_entropy as ce

from oracles import check_op

REDUCTIONS = ["mean", "sum", "none"]
SHAPES = [(5,), (3, 4), (2, 3, 4)]


def reduce(loss, reduction, denominator=None):
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / (loss.size if denominator is None else denominator)


def huber_ref(d, delta):
    return np.where(np.abs(d) <= delta, 0.5 * d * d, delta * (np.abs(d) - 0.5 * delta))


def log_softmax_ref(x):
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def ce_ref(x, target, weight=None, reduction="mean", eps=0.0, ignore_index=-100):
    """PyTorch's cross-entropy written with explicit log-probabilities."""
    classes = x.shape[1] if x.ndim > 1 else x.shape[0]
    rows = np.moveaxis(x, 1, -1).reshape(-1, classes) if x.ndim > 1 else x[None]
    logp = log_softmax_ref(rows)
    w = np.ones(classes) if weight is None else weight
    out_shape = x.shape[:1] + x.shape[2:] if x.ndim > 1 else ()
    if target.dtype.kind == "f":
        t = np.moveaxis(target, 1, -1).reshape(-1, classes) if x.ndim > 1 else target[None]
        t = t * (1 - eps) + eps / classes
        loss = -(t * w * logp).sum(axis=1)
        return reduce(loss.reshape(out_shape), reduction, len(rows))
    y = target.reshape(-1)
    valid = y != ignore_index
    ys = np.where(valid, y, 0)
    nll = -logp[np.arange(len(ys)), ys] * w[ys] * valid
    smooth = -(logp * w).sum(axis=1) * valid
    loss = (1 - eps) * nll + eps / classes * smooth
    return reduce(loss.reshape(out_shape), reduction, (w[ys] * valid).sum())


# ---- regression losses: forward, input and target gradients --------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", SHAPES)
def test_mse_loss(shape, reduction):
    check_op(
        lambda a, b: F.mse_loss(a, b, reduction=reduction),
        lambda a, b: reduce((a - b) ** 2, reduction),
        [shape, shape],
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", SHAPES)
def test_l1_loss(shape, reduction):
    check_op(
        lambda a, b: F.l1_loss(a, b, reduction=reduction),
        lambda a, b: reduce(np.abs(a - b), reduction),
        [shape, shape],
        seed=3,
    )


@pytest.mark.parametrize("delta", [0.5, 1.0, 2.5])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", SHAPES)
def test_huber_loss(shape, reduction, delta):
    check_op(
        lambda a, b: F.huber_loss(a, b, reduction=reduction, delta=delta),
        lambda a, b: reduce(huber_ref(a - b, delta), reduction),
        [shape, shape],
    )


def test_l1_and_huber_subgradients_match_pytorch():
    x = Tensor([0.0, 1.0, -3.0], requires_grad=True)
    F.l1_loss(x, np.zeros(3), reduction="sum").backward()
    np.testing.assert_array_equal(x.grad, [0, 1, -1])
    x = Tensor([1.0, -1.0, 3.0], requires_grad=True)
    F.huber_loss(x, np.zeros(3), reduction="sum", delta=1.0).backward()
    np.testing.assert_array_equal(x.grad, [1, -1, 1])


# ---- binary cross-entropy ------------------------------------------------------------------


def bce_ref(p, y, w=None):
    loss = -(y * np.maximum(np.log(p), -100) + (1 - y) * np.maximum(np.log(1 - p), -100))
    return loss if w is None else loss * w


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", SHAPES)
def test_binary_cross_entropy_input_and_target(shape, reduction):
    check_op(
        lambda p, y: F.binary_cross_entropy(p, y, reduction=reduction),
        lambda p, y: reduce(bce_ref(p, y), reduction),
        [shape, shape],
        low=0.05,
        high=0.95,
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_weighted(reduction):
    w = np.random.default_rng(5).uniform(0.5, 2.0, size=(4,))
    check_op(
        lambda p, y: F.binary_cross_entropy(p, y, w, reduction=reduction),
        lambda p, y: reduce(bce_ref(p, y, w), reduction),
        [(3, 4), (3, 4)],
        low=0.05,
        high=0.95,
    )


def bce_logits_ref(x, y, w=None, pw=None):
    softplus_neg = np.log1p(np.exp(-x))
    pw = 1.0 if pw is None else pw
    loss = (1 - y) * x + (1 + (pw - 1) * y) * softplus_neg
    return loss if w is None else loss * w


BCE_LOGITS_CONFIGS = [
    ((5,), None, None),
    ((3, 4), None, None),
    ((3, 4), (4,), None),
    ((3, 4), None, (4,)),
    ((2, 3, 4), (3, 1), (4,)),
    ((6, 1), (6, 1), (1,)),
]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape,w_shape,pw_shape", BCE_LOGITS_CONFIGS)
def test_binary_cross_entropy_with_logits(shape, w_shape, pw_shape, reduction):
    rng = np.random.default_rng(7)
    w = None if w_shape is None else rng.uniform(0.5, 2, size=w_shape)
    pw = None if pw_shape is None else rng.uniform(0.5, 3, size=pw_shape)
    check_op(
        lambda x, y: F.binary_cross_entropy_with_logits(x, y, w, reduction, pos_weight=pw),
        lambda x, y: reduce(bce_logits_ref(x, y, w, pw), reduction),
        [shape, shape],
        low=-3,
        high=3,
    )


# ---- cross-entropy -------------------------------------------------------------------------


def _labels(shape, classes, seed=0):
    return np.random.default_rng(seed).integers(0, classes, size=shape)


CE_INDEX_CONFIGS = [
    # (logits shape, weighted, label smoothing, ignore some targets)
    ((5, 3), False, 0.0, False),
    ((8, 10), True, 0.0, False),
    ((6, 4), False, 0.1, False),
    ((6, 4), True, 0.25, True),
    ((1, 4), True, 0.0, False),
    ((4,), False, 0.2, False),
    ((2, 3, 5), True, 0.1, True),
    ((2, 4, 2, 3), False, 0.0, True),
]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape,weighted,eps,ignore", CE_INDEX_CONFIGS)
def test_cross_entropy_index_targets(shape, weighted, eps, ignore, reduction):
    classes = shape[1] if len(shape) > 1 else shape[0]
    target = _labels(shape[:1] + shape[2:] if len(shape) > 1 else (), classes)
    if ignore:
        target.reshape(-1)[::3] = -100
    w = np.random.default_rng(1).uniform(0.5, 2, classes) if weighted else None
    check_op(
        lambda x: F.cross_entropy(x, target, w, reduction, label_smoothing=eps),
        lambda x: ce_ref(x, target, w, reduction, eps),
        [shape],
        low=-4,
        high=4,
    )


CE_PROB_CONFIGS = [
    ((5, 3), False, 0.0),
    ((6, 4), True, 0.0),
    ((6, 4), True, 0.3),
    ((3,), False, 0.1),
    ((2, 3, 4), True, 0.1),
]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape,weighted,eps", CE_PROB_CONFIGS)
def test_cross_entropy_probability_targets_input_and_target(shape, weighted, eps, reduction):
    classes = shape[1] if len(shape) > 1 else shape[0]
    w = np.random.default_rng(1).uniform(0.5, 2, classes) if weighted else None
    check_op(
        lambda x, t: F.cross_entropy(x, t, w, reduction, label_smoothing=eps),
        lambda x, t: ce_ref(x, t, w, reduction, eps),
        [shape, shape],
        low=0.0,
        high=3.0,
    )


def test_one_hot_targets_equal_index_targets():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(7, 5))
    y = _labels((7,), 5)
    w = rng.uniform(0.5, 2, 5)
    by_index = F.cross_entropy(Tensor(x), y, w, reduction="none", label_smoothing=0.1)
    by_probs = F.cross_entropy(Tensor(x), np.eye(5)[y], w, reduction="none", label_smoothing=0.1)
    np.testing.assert_allclose(by_index.data, by_probs.data, rtol=1e-12)


def _composed_ce(x, y, weight, eps):
    """Weighted, smoothed CE from primitives (logsumexp, mul, sum): no fused op involved."""
    classes = x.shape[1]
    w = np.ones(classes) if weight is None else weight
    q = ((1 - eps) * np.eye(classes)[y] + eps / classes) * w  # loss_i = sum_c q_ic (lse_i - x_ic)
    lse = F.logsumexp(x, axis=1)
    per_row = lse * q.sum(axis=1) - F.sum(x * q, axis=1)
    return F.sum(per_row) / w[y].sum()


@pytest.mark.parametrize("weighted,eps", [(False, 0.0), (True, 0.0), (False, 0.2), (True, 0.1)])
def test_fused_cross_entropy_equals_composition_from_primitives(weighted, eps):
    rng = np.random.default_rng(4)
    x = rng.normal(scale=3, size=(9, 6))
    y = _labels((9,), 6, seed=4)
    w = rng.uniform(0.5, 2, 6) if weighted else None
    fused_x, composed_x = Tensor(x, requires_grad=True), Tensor(x, requires_grad=True)
    fused = F.cross_entropy(fused_x, y, w, label_smoothing=eps)
    composed = _composed_ce(composed_x, y, w, eps)
    np.testing.assert_allclose(fused.data, composed.data, rtol=1e-12)
    fused.backward()
    composed.backward()
    np.testing.assert_allclose(fused_x.grad, composed_x.grad, rtol=1e-10, atol=1e-14)


def test_cross_entropy_backward_is_repeatable_with_retain_graph():
    x = Tensor(np.random.default_rng(0).normal(size=(4, 3)), requires_grad=True)
    loss = F.cross_entropy(x, np.array([0, 1, 2, 1]), label_smoothing=0.1)
    loss.backward(retain_graph=True)
    first = x.grad.copy()
    loss.backward()
    np.testing.assert_allclose(x.grad, 2 * first, rtol=1e-14)


def test_cross_entropy_all_targets_ignored_is_nan_as_pytorch():
    out = F.cross_entropy(Tensor(np.zeros((2, 3))), np.array([-100, -100]))
    assert np.isnan(out.item())
    out = F.cross_entropy(Tensor(np.zeros((2, 3))), np.array([-100, -100]), reduction="sum")
    assert out.item() == 0.0


# ---- KL divergence -------------------------------------------------------------------------


def kl_ref(x, t, log_target=False):
    if log_target:
        return np.exp(t) * (t - x)
    return t * np.log(t) - t * x


@pytest.mark.parametrize("log_target", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("shape", SHAPES)
def test_kl_div_input_and_target(shape, reduction, log_target):
    def ref(x, t):
        loss = kl_ref(x, t, log_target)
        if reduction == "batchmean":
            return loss.sum() / shape[0]
        return reduce(loss, reduction)

    check_op(
        lambda x, t: F.kl_div(x, t, reduction=reduction, log_target=log_target),
        ref,
        [shape, shape],
        low=0.1,
        high=2.0,
    )


def test_kl_div_zero_target_contributes_zero():
    x = Tensor(np.log([0.5, 0.5]), requires_grad=True)
    out = F.kl_div(x, np.array([1.0, 0.0]), reduction="sum")
    np.testing.assert_allclose(out.item(), np.log(2), rtol=1e-12)
    out.backward()
    np.testing.assert_array_equal(x.grad, [-1.0, 0.0])


# ---- stability (PyTorch's measured values; reliability.md section 2) ------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_with_logits_finite_at_plus_minus_1000(dtype):
    with np.errstate(all="raise"):
        x = Tensor(np.array([1000.0, -1000.0], dtype), requires_grad=True)
        y = np.array([0.0, 1.0], dtype)
        per_element = F.binary_cross_entropy_with_logits(x, y, reduction="none")
        np.testing.assert_array_equal(per_element.data, [1000.0, 1000.0])
        loss = F.binary_cross_entropy_with_logits(x, y, reduction="sum")
        loss.backward()
    np.testing.assert_array_equal(x.grad, [1.0, -1.0])
    assert x.grad.dtype == dtype


def test_bce_with_logits_pos_weight_stable():
    with np.errstate(all="raise"):
        x = Tensor(np.array([-1000.0, 1000.0]), requires_grad=True)
        loss = F.binary_cross_entropy_with_logits(
            x, np.array([1.0, 0.0]), pos_weight=np.array([3.0]), reduction="sum"
        )
        loss.backward()
    np.testing.assert_allclose(loss.item(), 3 * 1000 + 1000)
    np.testing.assert_allclose(x.grad, [-3.0, 1.0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_on_saturated_probabilities_gives_100(dtype):
    with np.errstate(all="raise"):
        p = Tensor(np.array([0.0, 1.0], dtype), requires_grad=True)
        loss = F.binary_cross_entropy(p, np.array([1.0, 0.0], dtype))
        loss.backward()
    assert loss.item() == 100.0
    assert np.all(np.isfinite(p.grad))  # PyTorch's 1e-12 guard: -0.5e12 and +0.5e12
    np.testing.assert_allclose(p.grad, [-0.5e12, 0.5e12], rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_finite_for_huge_logits(dtype):
    with np.errstate(all="raise"):
        x = Tensor(np.array([[1000.0, 0.0, -1000.0]] * 2, dtype), requires_grad=True)
        loss = F.cross_entropy(x, np.array([0, 2]), reduction="none")
        np.testing.assert_array_equal(loss.data, [0.0, 2000.0])
        loss.sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 0, 0], [1, 0, -1]])


# ---- dtypes --------------------------------------------------------------------------------

ALL_LOSSES = {
    "mse": lambda x, t: F.mse_loss(x, t),
    "l1": lambda x, t: F.l1_loss(x, t),
    "huber": lambda x, t: F.huber_loss(x, t),
    "bce": lambda x, t: F.binary_cross_entropy(F.clip(x, 0.01, 0.99), t, np.ones(3)),
    "bce_logits": lambda x, t: F.binary_cross_entropy_with_logits(
        x, t, np.ones(3), pos_weight=np.ones(3)
    ),
    "ce_probs": lambda x, t: F.cross_entropy(x, t, np.ones(3), label_smoothing=0.1),
    "ce_index": lambda x, t: F.cross_entropy(x, np.array([0, 2]), np.ones(3), label_smoothing=0.1),
    "kl": lambda x, t: F.kl_div(x, t, reduction="batchmean"),
}


@pytest.mark.parametrize("name", ALL_LOSSES)
def test_float32_in_float32_out_with_float64_targets_and_weights(name):
    x = Tensor(np.linspace(0.1, 0.9, 6, dtype=np.float32).reshape(2, 3), requires_grad=True)
    t = np.full((2, 3), 0.25, np.float64)
    out = ALL_LOSSES[name](x, t)
    assert out.dtype == np.float32
    out.backward()
    assert x.grad.dtype == np.float32
    assert np.all(np.isfinite(x.grad)) and np.any(x.grad != 0)


def test_gradcheck_with_weights_that_require_grad_gets_no_weight_grad():
    x = Tensor(np.random.default_rng(0).normal(size=(4, 3)), requires_grad=True)
    w = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    assert gradcheck(lambda a: F.cross_entropy(a, np.array([0, 1, 2, 0]), w), [x])
    F.cross_entropy(x, np.array([0, 1, 2, 0]), w).backward()
    assert w.grad is None


# ---- errors --------------------------------------------------------------------------------

REDUCED_OPS = [
    lambda r: F.mse_loss(Tensor(np.zeros(3)), np.zeros(3), reduction=r),
    lambda r: F.l1_loss(Tensor(np.zeros(3)), np.zeros(3), reduction=r),
    lambda r: F.huber_loss(Tensor(np.zeros(3)), np.zeros(3), reduction=r),
    lambda r: F.cross_entropy(Tensor(np.zeros((2, 3))), np.array([0, 1]), reduction=r),
    lambda r: F.binary_cross_entropy(Tensor(np.full(3, 0.5)), np.zeros(3), reduction=r),
    lambda r: F.binary_cross_entropy_with_logits(Tensor(np.zeros(3)), np.zeros(3), reduction=r),
]


@pytest.mark.parametrize("op", REDUCED_OPS)
def test_bad_reduction_names_the_allowed_values(op):
    allowed = "reduction must be one of 'mean', 'sum', 'none'; got 'avg'"
    with pytest.raises(ValueError, match=allowed):
        op("avg")
    with pytest.raises(ValueError, match="got 'batchmean'"):
        op("batchmean")


def test_kl_div_accepts_batchmean_only_there():
    out = F.kl_div(Tensor(np.zeros((2, 3))), np.full((2, 3), 0.5), reduction="batchmean")
    np.testing.assert_allclose(out.item(), 3 * 0.5 * np.log(0.5))
    with pytest.raises(ValueError, match="'mean', 'sum', 'none', 'batchmean'; got 'avg'"):
        F.kl_div(Tensor(np.zeros(3)), np.zeros(3), reduction="avg")


def test_shape_mismatch_is_refused_not_broadcast():
    with pytest.raises(
        ValueError,
        match=r"mse_loss expects target of the same shape as input "
        r"\(32, 1\); got \(32,\)",
    ):
        F.mse_loss(Tensor(np.zeros((32, 1))), np.zeros(32))
    with pytest.raises(ValueError, match=r"binary_cross_entropy_with_logits expects target"):
        F.binary_cross_entropy_with_logits(Tensor(np.zeros((4, 1))), np.zeros(4))


def test_cross_entropy_target_shape_message():
    x = Tensor(np.zeros((32, 10)))
    message = (
        r"cross_entropy expects class indices of shape \(N,\) or probabilities of shape "
        r"\(N, C\) = \(32, 10\); got \(32, 1\); flatten \(N, 1\) labels"
    )
    with pytest.raises(ValueError, match=message):
        F.cross_entropy(x, np.zeros((32, 1), np.int64))
    with pytest.raises(ValueError, match=r"got \(32, 9\)"):
        F.cross_entropy(x, np.zeros((32, 9)))
    with pytest.raises(ValueError, match="class indices must be integers, got dtype float64"):
        F.cross_entropy(x, np.zeros(32))
    with pytest.raises(ValueError, match="indices or float probabilities, got dtype bool"):
        F.cross_entropy(x, np.zeros(32, bool))


def test_cross_entropy_index_out_of_range():
    x = Tensor(np.zeros((3, 10)))
    message = (
        r"class index 10 is out of range for 10 classes "
        r"\(expected 0 <= index < 10, or ignore_index=-100\)"
    )
    with pytest.raises(ValueError, match=message):
        F.cross_entropy(x, np.array([0, 10, 3]))
    with pytest.raises(ValueError, match="class index -1 is out of range"):
        F.cross_entropy(x, np.array([0, -1, 3]))
    F.cross_entropy(x, np.array([0, -100, 3]))  # the ignored index is fine


def test_cross_entropy_bad_weight_and_smoothing():
    x = Tensor(np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"weight must have shape \(C,\) = \(4,\); got \(3,\)"):
        F.cross_entropy(x, np.array([0, 1, 2]), np.ones(3))
    with pytest.raises(ValueError, match=r"label_smoothing must be in \[0, 1\], got 1.5"):
        F.cross_entropy(x, np.array([0, 1, 2]), label_smoothing=1.5)


def test_bce_errors():
    with pytest.raises(
        ValueError,
        match=r"expects probabilities in \[0, 1\]; got values in "
        r"\[-0.5, 2.0\]. Apply sigmoid first",
    ):
        F.binary_cross_entropy(Tensor(np.array([-0.5, 0.5, 2.0])), np.zeros(3))
    with pytest.raises(
        ValueError,
        match=r"weight of shape \(2,\) does not broadcast to input "
        r"shape \(3, 4\)",
    ):
        F.binary_cross_entropy(Tensor(np.full((3, 4), 0.5)), np.zeros((3, 4)), np.ones(2))
    with pytest.raises(ValueError, match=r"pos_weight of shape \(3,\) does not broadcast"):
        F.binary_cross_entropy_with_logits(
            Tensor(np.zeros((3, 4))), np.zeros((3, 4)), pos_weight=np.ones(3)
        )


def test_huber_delta_must_be_positive():
    with pytest.raises(ValueError, match="huber_loss: delta must be positive, got 0"):
        F.huber_loss(Tensor(np.zeros(3)), np.zeros(3), delta=0)


def test_ignore_index_none_counts_every_target():
    x = Tensor(np.zeros((2, 3)))
    out = apply(ce.CrossEntropy, x, np.array([0, 2]), None, ignore_index=None)
    np.testing.assert_allclose(out.item(), np.log(3))
    with pytest.raises(ValueError, match=r"out of range for 3 classes \(expected 0 <= index < 3\)"):
        apply(ce.CrossEntropy, x, np.array([0, -100]), None, ignore_index=None)
