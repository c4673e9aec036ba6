import numpy as np
import pytest

import nnlab.functional as F
from nnlab import Tensor

from oracles import check_op

CASES = [
    ((5,), None, False),
    ((3, 4), 0, False),
    ((3, 4), 1, True),
    ((2, 3, 4), (0, 2), False),
    ((2, 3, 4), -1, True),
    ((2, 3, 4), None, True),
]


@pytest.mark.parametrize("shape,axis,keepdims", CASES)
@pytest.mark.parametrize(
    "name,fn,ref",
    [
        ("sum", F.sum, np.sum),
        ("mean", F.mean, np.mean),
        ("max", F.max, np.max),
        ("min", F.min, np.min),
        ("var", F.var, lambda a, axis, keepdims: np.var(a, axis=axis, keepdims=keepdims, ddof=1)),
        ("std", F.std, lambda a, axis, keepdims: np.std(a, axis=axis, keepdims=keepdims, ddof=1)),
    ],
)
def test_reductions(shape, axis, keepdims, name, fn, ref):
    check_op(
        lambda a: fn(a, axis=axis, keepdims=keepdims),
        lambda a: ref(a, axis=axis, keepdims=keepdims),
        [shape],
    )


@pytest.mark.parametrize("shape,axis,keepdims", CASES)
def test_logsumexp(shape, axis, keepdims):
    def ref(a):
        return np.log(np.sum(np.exp(a), axis=axis, keepdims=keepdims))

    check_op(lambda a: F.logsumexp(a, axis=axis, keepdims=keepdims), ref, [shape])


def test_var_biased_with_correction_zero():
    a = np.random.default_rng(0).normal(size=(4, 5))
    np.testing.assert_allclose(F.var(Tensor(a), axis=1, correction=0).data, a.var(axis=1))


def test_logsumexp_is_finite_for_huge_values():
    out = F.logsumexp(Tensor([1000.0, 1000.0]))
    np.testing.assert_allclose(out.data, 1000 + np.log(2), rtol=1e-6)
    out = F.logsumexp(Tensor([-np.inf, -np.inf]))
    assert out.item() == -np.inf


def test_max_ties_share_gradient_like_amax():
    x = Tensor([3.0, 3.0, 1.0], requires_grad=True)
    x.max().backward()
    np.testing.assert_array_equal(x.grad, [0.5, 0.5, 0])


def test_mean_composed_equals_sum_over_count():
    a = Tensor(np.random.default_rng(2).normal(size=(3, 4)), requires_grad=True)
    b = Tensor(a.data.copy(), requires_grad=True)
    a.mean(axis=0).sum().backward()
    (b.sum(axis=0) / 3.0).sum().backward()
    np.testing.assert_allclose(a.grad, b.grad, rtol=1e-12)
