import numpy as np
import pytest

import nnlab.functional as F
from nnlab import Tensor

from oracles import check_op

# Broadcasting pairs after PyTorch's OpInfo list, plus plain same-shape cases.
PAIRS = [
    ((3, 4), (3, 4)),
    ((2, 1), (2,)),
    ((1, 3, 2), (3, 2)),
    ((3, 1, 2), (1, 3, 2)),
    ((2, 3, 2), ()),
    ((4,), (2, 1)),
]

BINARY = {
    "add": (lambda a, b: a + b, np.add),
    "sub": (lambda a, b: a - b, np.subtract),
    "mul": (lambda a, b: a * b, np.multiply),
    "div": (lambda a, b: a / (b * b + 0.5), lambda a, b: a / (b * b + 0.5)),
    "maximum": (F.maximum, np.maximum),
    "minimum": (F.minimum, np.minimum),
}


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("shapes", PAIRS)
def test_binary_ops(name, shapes):
    fn, ref = BINARY[name]
    check_op(fn, ref, shapes)


@pytest.mark.parametrize("shapes", PAIRS)
def test_pow_both_inputs(shapes):
    # base kept positive so a ** b and log(a) are defined
    check_op(lambda a, b: (a * a + 0.5) ** b, lambda a, b: (a * a + 0.5) ** b, shapes)


UNARY = {
    "neg": (lambda a: -a, np.negative, -2, 2),
    "exp": (F.exp, np.exp, -2, 2),
    "log": (F.log, np.log, 0.2, 3),
    "sqrt": (F.sqrt, np.sqrt, 0.2, 3),
    "abs": (F.abs, np.abs, -2, 2),
    "clip": (lambda a: F.clip(a, -0.5, 0.7), lambda a: np.clip(a, -0.5, 0.7), -2, 2),
    "clip_low": (lambda a: F.clip(a, min=0.1), lambda a: np.clip(a, 0.1, None), -2, 2),
    "pow_scalar": (lambda a: a**3, lambda a: a**3, -2, 2),
    "rsub": (lambda a: 1.5 - a, lambda a: 1.5 - a, -2, 2),
    "rdiv": (lambda a: 2.0 / a, lambda a: 2.0 / a, 0.5, 2),
    "clone": (lambda a: a.clone(), np.copy, -2, 2),
}


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("shape", [(), (5,), (3, 4), (2, 3, 4), (2, 1, 3, 2)])
def test_unary_ops(name, shape):
    fn, ref, low, high = UNARY[name]
    check_op(fn, ref, [shape], low=low, high=high)


@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((2, 3), (3,)), ((4, 1), (1, 5))])
def test_where(shapes):
    mask = np.random.default_rng(1).random(np.broadcast_shapes(*shapes)) > 0.5
    check_op(lambda a, b: F.where(mask, a, b), lambda a, b: np.where(mask, a, b), shapes)


def test_subgradient_conventions_match_pytorch():
    # abs'(0) = 0; maximum splits ties evenly; clip passes gradient on its boundary
    x = Tensor([0.0, 1.0, -1.0], requires_grad=True)
    F.abs(x).sum().backward()
    np.testing.assert_array_equal(x.grad, [0, 1, -1])
    a, b = Tensor([1.0, 2.0], requires_grad=True), Tensor([1.0, 3.0], requires_grad=True)
    F.maximum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad, [0.5, 0])
    np.testing.assert_array_equal(b.grad, [0.5, 1])
    c = Tensor([-1.0, 0.0, 1.0, 2.0], requires_grad=True)
    F.clip(c, 0.0, 1.0).sum().backward()
    np.testing.assert_array_equal(c.grad, [0, 1, 1, 0])


def test_scalar_constants_keep_float32():
    x = Tensor(np.ones(3, np.float32), requires_grad=True)
    y = (x * 2.5 + 1) / 3.0 - 0.5
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad, np.full(3, 2.5 / 3), rtol=1e-6)


def test_ndarray_on_the_left_defers_to_tensor():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = np.array([3.0, 4.0], np.float32) * x
    assert isinstance(y, Tensor)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [3, 4])
