import math

import numpy as np
import pytest

import nnlab.functional as F
from nnlab import Tensor

from oracles import check_op

SHAPES = [(), (5,), (3, 4), (2, 3, 4), (2, 1, 3, 2)]
SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def _erf(a):
    return np.vectorize(math.erf)(a)


def _erfc(a):
    return np.vectorize(math.erfc)(a)


def _softplus(a, beta, threshold):
    return np.where(a * beta > threshold, a, np.log1p(np.exp(a * beta)) / beta)


def _gelu_tanh(a):
    return 0.5 * a * (1 + np.tanh(math.sqrt(2 / math.pi) * (a + 0.044715 * a**3)))


# name -> (nnlab fn, plain NumPy float64 reference)
ELEMENTWISE = {
    "sigmoid": (F.sigmoid, lambda a: 1 / (1 + np.exp(-a))),
    "tanh": (F.tanh, np.tanh),
    "relu": (F.relu, lambda a: np.maximum(a, 0)),
    "leaky_relu": (
        lambda x: F.leaky_relu(x, 0.2),
        lambda a: np.where(a > 0, a, 0.2 * a),
    ),
    "elu": (lambda x: F.elu(x, 0.7), lambda a: np.where(a > 0, a, 0.7 * np.expm1(a))),
    "selu": (
        F.selu,
        lambda a: SELU_SCALE * np.where(a > 0, a, SELU_ALPHA * np.expm1(a)),
    ),
    # erfc rather than 1 + erf keeps the reference exact for x << 0
    "gelu": (F.gelu, lambda a: 0.5 * a * _erfc(-a / math.sqrt(2))),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"), _gelu_tanh),
    "softplus": (F.softplus, lambda a: _softplus(a, 1.0, 20.0)),
    # beta 2, threshold 3 puts part of [-4, 4] on the linear branch
    "softplus_threshold": (lambda x: F.softplus(x, 2.0, 3.0), lambda a: _softplus(a, 2.0, 3.0)),
    "silu": (F.silu, lambda a: a / (1 + np.exp(-a))),
}


@pytest.mark.parametrize("name", ELEMENTWISE)
@pytest.mark.parametrize("shape", SHAPES)
def test_elementwise_activation(name, shape):
    fn, ref = ELEMENTWISE[name]
    check_op(fn, ref, [shape], low=-4, high=4)


def _softmax_ref(a, axis):
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _log_softmax_ref(a, axis):
    shifted = a - a.max(axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


AXIS_CASES = [
    ((5,), -1),
    ((3, 4), -1),
    ((3, 4), 0),
    ((2, 3, 4), 1),
    ((2, 1, 3, 2), -1),
    ((4, 1), 1),
]


@pytest.mark.parametrize("shape,axis", AXIS_CASES)
def test_softmax(shape, axis):
    fn = lambda x: F.softmax(x, axis)  # noqa: E731
    check_op(fn, lambda a: _softmax_ref(a, axis), [shape], low=-4, high=4)


@pytest.mark.parametrize("shape,axis", AXIS_CASES)
def test_log_softmax(shape, axis):
    fn = lambda x: F.log_softmax(x, axis)  # noqa: E731
    check_op(fn, lambda a: _log_softmax_ref(a, axis), [shape], low=-4, high=4)


def _forward_backward(fn, x, grad):
    t = Tensor(x, requires_grad=True)
    out = fn(t)
    out.backward(grad)
    return out.data, t.grad


# fused op -> the same function composed from primitive ops
COMPOSED = {
    "softmax": (
        lambda x: F.softmax(x, axis=1),
        lambda x: F.exp(x) / F.sum(F.exp(x), axis=1, keepdims=True),
    ),
    "log_softmax": (
        lambda x: F.log_softmax(x, axis=1),
        lambda x: x - F.logsumexp(x, axis=1, keepdims=True),
    ),
    "log_softmax_via_softmax": (
        lambda x: F.log_softmax(x, axis=1),
        lambda x: F.log(F.softmax(x, axis=1)),
    ),
    "sigmoid": (F.sigmoid, lambda x: 1.0 / (1.0 + F.exp(-x))),
    "silu": (F.silu, lambda x: x * F.sigmoid(x)),
    "softplus": (F.softplus, lambda x: F.log(1.0 + F.exp(x))),
    "gelu_tanh": (
        lambda x: F.gelu(x, approximate="tanh"),
        lambda x: 0.5 * x * (1.0 + F.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3))),
    ),
}


@pytest.mark.parametrize("name", COMPOSED)
def test_fused_equals_composition(name):
    fused, composed = COMPOSED[name]
    rng = np.random.default_rng(3)
    x, grad = rng.normal(size=(2, 6, 5)) * 3, rng.normal(size=(2, 6, 5))
    out_f, grad_f = _forward_backward(fused, x, grad)
    out_c, grad_c = _forward_backward(composed, x, grad)
    np.testing.assert_allclose(out_f, out_c, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(grad_f, grad_c, rtol=1e-10, atol=1e-12)


# ---- stability: huge inputs give exact limits and raise no floating-point error ---------------


def _strict(fn, x, grad=None):
    """forward + backward with every floating-point error raising."""
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(all="raise"):
        return _forward_backward(fn, x, np.ones_like(x) if grad is None else grad)


def test_log_softmax_of_huge_spread_is_exact():
    out, grad = _strict(F.log_softmax, [1000.0, 0.0, -1000.0])
    np.testing.assert_array_equal(out, [0.0, -1000.0, -2000.0])
    np.testing.assert_array_equal(grad, [-2.0, 1.0, 1.0])  # g - softmax * sum(g)


def test_softmax_rows_of_huge_values():
    x = [[1000.0, 1000.0], [-1000.0, -1000.0], [1000.0, -1000.0], [1e4, 1e4 - np.log(3.0)]]
    grad = np.array([[1.0, 0.0]] * 4)
    out, grad_x = _strict(F.softmax, x, grad)
    np.testing.assert_allclose(out, [[0.5, 0.5], [0.5, 0.5], [1.0, 0.0], [0.75, 0.25]])
    # d softmax_0 / dx = s0 (e0 - s): [s0 s1, -s0 s1]
    np.testing.assert_allclose(grad_x, [[0.25, -0.25], [0.25, -0.25], [0, 0], [0.1875, -0.1875]])


LIMITS = {
    # name -> (fn, outputs at [-1000, 1000], derivatives there)
    "sigmoid": (F.sigmoid, [0.0, 1.0], [0.0, 0.0]),
    "tanh": (F.tanh, [-1.0, 1.0], [0.0, 0.0]),
    "softplus": (F.softplus, [0.0, 1000.0], [0.0, 1.0]),
    # a threshold above 1000 forces the log1p(exp(-|x|)) branch
    "softplus_no_threshold": (lambda x: F.softplus(x, threshold=1e4), [0.0, 1000.0], [0.0, 1.0]),
    "softplus_beta": (
        lambda x: F.softplus(x, beta=0.5, threshold=1e4),
        [2 * math.exp(-500), 1000.0],  # log1p(exp(-500)) / 0.5: tiny but representable
        [math.exp(-500), 1.0],
    ),
    "elu": (F.elu, [-1.0, 1000.0], [0.0, 1.0]),
    "selu": (F.selu, [-SELU_ALPHA * SELU_SCALE, 1000 * SELU_SCALE], [0.0, SELU_SCALE]),
    "gelu": (F.gelu, [0.0, 1000.0], [0.0, 1.0]),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"), [0.0, 1000.0], [0.0, 1.0]),
    "silu": (F.silu, [0.0, 1000.0], [0.0, 1.0]),
    "relu": (F.relu, [0.0, 1000.0], [0.0, 1.0]),
    "leaky_relu": (F.leaky_relu, [-10.0, 1000.0], [0.01, 1.0]),
}


@pytest.mark.parametrize("name", LIMITS)
def test_limits_at_plus_minus_1000(name):
    fn, expected_out, expected_grad = LIMITS[name]
    out, grad = _strict(fn, [-1000.0, 1000.0])
    np.testing.assert_allclose(out, expected_out, rtol=1e-15)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-15)


MAGNITUDE_CASES = {
    **ELEMENTWISE,
    "softmax": (lambda x: F.softmax(x, 0), lambda a: _softmax_ref(a, 0)),
    "log_softmax": (lambda x: F.log_softmax(x, 0), lambda a: _log_softmax_ref(a, 0)),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", MAGNITUDE_CASES)
def test_no_floating_point_error_at_any_magnitude(name, dtype):
    # 1e-44 is subnormal in float32: products of such values underflow, which is not an error
    fn, ref = MAGNITUDE_CASES[name]
    magnitudes = np.logspace(-44, 4, 97)
    x = np.concatenate([-magnitudes, [0.0], magnitudes]).astype(dtype)
    with np.errstate(all="raise"):
        out, grad = _forward_backward(fn, x, np.full(x.shape, 0.7, dtype))
    assert np.isfinite(grad).all()
    with np.errstate(over="ignore", under="ignore"):  # the naive reference overflows to inf
        expected = ref(x.astype(np.float64))
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out, expected, rtol=rtol, atol=1e-30)


def test_caller_error_state_is_left_alone():
    before = np.geterr()
    with np.errstate(all="raise"):
        _forward_backward(F.softmax, np.array([0.0, -1000.0]), np.ones(2))
        assert np.geterr()["under"] == "raise"
    assert np.geterr() == before


# ---- conventions ---------------------------------------------------------------------------


def test_subgradients_at_zero_follow_pytorch():
    zero = np.zeros(1)
    assert _forward_backward(F.relu, zero, np.ones(1))[1][0] == 0.0
    assert _forward_backward(lambda x: F.leaky_relu(x, 0.3), zero, np.ones(1))[1][0] == 0.3
    assert _forward_backward(lambda x: F.elu(x, 0.5), zero, np.ones(1))[1][0] == 0.5
    selu_grad = _forward_backward(F.selu, zero, np.ones(1))[1][0]
    np.testing.assert_allclose(selu_grad, SELU_ALPHA * SELU_SCALE, rtol=1e-15)


@pytest.mark.parametrize(
    "fn",
    [
        *[fn for fn, _ in ELEMENTWISE.values()],
        lambda x: F.softmax(x, axis=0),
        lambda x: F.log_softmax(x, axis=1),
    ],
)
def test_float32_stays_float32_in_backward(fn):
    x = Tensor(np.linspace(-3, 3, 12, dtype=np.float32).reshape(3, 4), requires_grad=True)
    out = fn(x)
    out.backward(np.ones((3, 4), np.float32))
    assert out.dtype == np.float32 and x.grad.dtype == np.float32
    # the float32 gradient agrees with the float64 one
    x64 = Tensor(x.data.astype(np.float64), requires_grad=True)
    fn(x64).backward(np.ones((3, 4)))
    np.testing.assert_allclose(x.grad, x64.grad, rtol=1e-5, atol=1e-6)


def test_numpy_scalar_parameters_keep_float32():
    x = Tensor(np.array([-1.0, 2.0], np.float32))
    assert F.leaky_relu(x, np.float64(0.1)).dtype == np.float32
    assert F.softplus(x, np.float64(2.0), np.float64(10.0)).dtype == np.float32


def test_float32_gelu_is_accurate_in_the_tails():
    # float32 takes Phi from a vectorised erfc fit, float64 from scipy: relative agreement
    # holds where the output is tiny (x << 0), not only near its O(1) values
    x = np.linspace(-10, 10, 4001, dtype=np.float32)
    ours = F.gelu(Tensor(x)).data
    exact = F.gelu(Tensor(x.astype(np.float64))).data
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, exact, rtol=1e-5, atol=0)
    inner = np.abs(x) < 6
    np.testing.assert_allclose(ours[inner], exact[inner], rtol=3e-6, atol=0)
    expected = 0.5 * x.astype(np.float64) * (1 + _erf(x.astype(np.float64) / math.sqrt(2)))
    np.testing.assert_allclose(exact[x > -5], expected[x > -5], rtol=1e-9, atol=1e-15)


def test_gelu_rejects_unknown_approximation():
    with pytest.raises(ValueError, match="approximate must be 'none' or 'tanh', got 'erf'"):
        F.gelu(Tensor([1.0]), approximate="erf")
