"""PyTorch-style pooling modules and Dropout2d: configs, reprs, train/eval behaviour and
argument errors (values against torch live in tests/parity/test_parity_pool.py)."""

import numpy as np
import pytest

from nnlab import Tensor, backend
from nnlab.nn.dropout import Dropout2d
from nnlab.nn.module import registered
from nnlab.nn.pool import (
    AdaptiveAvgPool2d,
    AvgPool2d,
    MaxPool1d,
    MaxPool2d,
    Upsample,
    ZeroPad2d,
)

MODULES = [
    MaxPool1d(3, 2, 1, 2, True),
    MaxPool2d((2, 3), (1, 2), (1, 0), 1, True),
    AvgPool2d(3, 2, 1, True, False),
    AdaptiveAvgPool2d((None, 3)),
    Upsample(scale_factor=(2, 3), mode="bilinear"),
    Upsample(size=8),
    ZeroPad2d((1, 2, 3, 4)),
    Dropout2d(0.3),
]


@pytest.mark.parametrize("module", MODULES, ids=lambda m: type(m).__name__)
def test_config_round_trip_through_the_registry(module):
    config = module.get_config()
    clone = registered(f"nn.{type(module).__name__}").from_config(config)
    assert clone.get_config() == config
    assert repr(clone) == repr(module)


def test_stride_defaults_to_kernel_size_and_reprs_read_like_torch():
    assert MaxPool2d(3).stride == 3
    assert repr(MaxPool2d(2)) == (
        "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"
    )
    assert "count_include_pad=True" in repr(AvgPool2d(2))
    assert repr(ZeroPad2d(1)) == "ZeroPad2d(padding=(1, 1, 1, 1))"


def test_modules_give_the_functional_results():
    x = np.random.default_rng(0).normal(size=(2, 3, 6, 6)).astype(np.float32)
    y = MaxPool2d(2)(Tensor(x)).data
    np.testing.assert_array_equal(y, x.reshape(2, 3, 3, 2, 3, 2).max(axis=(3, 5)))
    y = AvgPool2d(3, 3)(Tensor(x)).data
    np.testing.assert_allclose(y, x.reshape(2, 3, 2, 3, 2, 3).mean(axis=(3, 5)), rtol=1e-6)
    np.testing.assert_array_equal(
        ZeroPad2d((1, 0, 2, 0))(Tensor(x)).data, np.pad(x, ((0, 0), (0, 0), (2, 0), (1, 0)))
    )
    np.testing.assert_array_equal(
        Upsample(size=(12, 18))(Tensor(x)).data, x.repeat(2, axis=2).repeat(3, axis=3)
    )


def test_dropout2d_module_trains_and_evaluates():
    x = Tensor(np.ones((4, 16, 2, 2), np.float32))
    layer = Dropout2d(0.5, rng=1)
    y = layer(x).data
    np.testing.assert_array_equal(np.unique(y), [0.0, 2.0])
    assert np.all(y.reshape(4, 16, 4).min(axis=2) == y.reshape(4, 16, 4).max(axis=2))
    np.testing.assert_array_equal(Dropout2d(0.5, rng=1)(x).data, y)
    layer.eval()
    assert layer(x) is x


def test_dropout2d_modules_get_independent_reproducible_generators():
    x = Tensor(np.ones((8, 16, 1, 1), np.float32))
    backend.manual_seed(0)
    first, second = Dropout2d(0.5), Dropout2d(0.5)
    a, b = first(x).data, second(x).data
    backend.manual_seed(0)
    again = Dropout2d(0.5)(x).data
    assert not np.array_equal(a, b)
    np.testing.assert_array_equal(a, again)


def test_argument_errors():
    with pytest.raises(ValueError, match="exactly one of size and scale_factor"):
        Upsample()
    with pytest.raises(ValueError, match="'nearest' or 'bilinear'"):
        Upsample(scale_factor=2, mode="trilinear")
    with pytest.raises(NotImplementedError, match="align_corners=True"):
        Upsample(scale_factor=2, mode="bilinear", align_corners=True)
    with pytest.raises(ValueError, match="integer multiples of the input size"):
        Upsample(size=5)(Tensor(np.zeros((1, 1, 2, 2))))
    with pytest.raises(ValueError, match=r"\(left, right, top, bottom\)"):
        ZeroPad2d((1, 2))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        Dropout2d(1.5)
