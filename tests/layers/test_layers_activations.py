"""Keras's activation layers against NumPy versions of Keras's definitions, their float64
gradient checks, the Keras defaults and argument names, and config round trips."""

import numpy as np
import pytest

from nnlab import Tensor, gradcheck
from nnlab.layers import ELU, LeakyReLU, ReLU, Softmax
from nnlab.nn.module import class_key, registered

X = np.array([[-3.0, -0.5, 0.2, 0.7, 2.5, 7.0], [1.0, -1.0, 4.0, -2.0, 0.1, 6.5]])


def keras_relu(x, max_value=None, negative_slope=0.0, threshold=0.0):
    y = np.where(x >= threshold, x, negative_slope * (x - threshold))
    return y if max_value is None else np.minimum(y, max_value)


RELUS = [
    {},
    {"max_value": 6.0},
    {"negative_slope": 0.1},
    {"threshold": 0.5},
    {"max_value": 3.0, "negative_slope": 0.2, "threshold": -1.0},
]


@pytest.mark.parametrize("kwargs", RELUS)
def test_relu_follows_keras_definition(kwargs):
    layer = ReLU(**kwargs, dtype="float64")
    np.testing.assert_allclose(layer(X).data, keras_relu(X, **kwargs), rtol=1e-12)
    probe = Tensor(X + 0.013, requires_grad=True)  # away from the kinks
    assert gradcheck(layer, [probe])


def test_leaky_relu_elu_softmax_values_and_defaults():
    np.testing.assert_allclose(LeakyReLU(dtype="float64")(X).data, np.where(X > 0, X, 0.3 * X))
    assert LeakyReLU(alpha=0.2).negative_slope == 0.2  # Keras 2's name
    np.testing.assert_allclose(
        ELU(alpha=0.5, dtype="float64")(X).data, np.where(X > 0, X, 0.5 * np.expm1(X))
    )
    e = np.exp(X - X.max(axis=0))
    np.testing.assert_allclose(Softmax(axis=0, dtype="float64")(X).data, e / e.sum(axis=0))
    for layer in (LeakyReLU(0.2, dtype="float64"), ELU(dtype="float64"), Softmax(dtype="float64")):
        assert gradcheck(layer, [Tensor(X + 0.013, requires_grad=True)])


@pytest.mark.parametrize(
    "layer",
    [ReLU(max_value=6.0, negative_slope=0.1), LeakyReLU(0.2), ELU(alpha=0.7), Softmax(axis=1)],
    ids=lambda layer: type(layer).__name__,
)
def test_config_round_trip(layer):
    rebuilt = registered(class_key(type(layer))).from_config(layer.get_config())
    assert rebuilt.get_config() == layer.get_config()
    np.testing.assert_array_equal(rebuilt(X).data, layer(X).data)


def test_relu_argument_errors():
    with pytest.raises(ValueError, match="max_value must be >= 0 or None, got -1"):
        ReLU(max_value=-1)
    with pytest.raises(ValueError, match="negative_slope must be >= 0, got -0.1"):
        ReLU(negative_slope=-0.1)
