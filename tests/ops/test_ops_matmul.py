import numpy as np
import pytest

import nnlab.functional as F

from oracles import check_op


@pytest.mark.parametrize(
    "shapes",
    [
        ((3, 4), (4, 5)),
        ((4,), (4,)),
        ((4,), (4, 3)),
        ((2, 4), (4,)),
        ((2, 3, 4), (4, 5)),
        ((2, 1, 3, 4), (5, 4, 2)),
        ((3, 4), (2, 4, 5)),
    ],
)
def test_matmul(shapes):
    check_op(lambda a, b: a @ b, np.matmul, shapes)


@pytest.mark.parametrize("x_shape", [(5, 3), (2, 5, 3), (3,)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_reference(x_shape, bias):
    shapes = [x_shape, (4, 3)] + ([(4,)] if bias else [])

    def fn(x, w, b=None):
        return F.linear(x, w, b)

    def ref(x, w, b=None):
        return x @ w.T + (0 if b is None else b)

    check_op(fn, ref, shapes)


def test_fused_linear_equals_composition():
    from nnlab import Tensor

    rng = np.random.default_rng(0)
    x, w, b = rng.normal(size=(6, 3)), rng.normal(size=(4, 3)), rng.normal(size=4)
    fused = [Tensor(a, requires_grad=True) for a in (x, w, b)]
    plain = [Tensor(a, requires_grad=True) for a in (x, w, b)]
    y1 = F.linear(*fused)
    y2 = plain[0] @ plain[1].T + plain[2]
    np.testing.assert_allclose(y1.data, y2.data, rtol=1e-12)
    g = rng.normal(size=y1.shape)
    y1.backward(g)
    y2.backward(g)
    for f, p in zip(fused, plain, strict=True):
        np.testing.assert_allclose(f.grad, p.grad, rtol=1e-12)
