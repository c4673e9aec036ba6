"""PyTorch-style convolution modules: construction, configs, initialisation and errors (their
values against torch.nn are in tests/parity/test_parity_conv.py)."""

import numpy as np
import pytest

import nnlab.functional as F
from nnlab.nn.conv import Conv1d, Conv2d, ConvTranspose2d
from nnlab.nn.module import registered


@pytest.mark.parametrize(
    "module",
    [
        Conv2d(3, 8, 3, stride=2, padding=1, bias=False),
        Conv2d(4, 4, (3, 5), padding="same", dilation=(2, 1), groups=4),
        Conv2d(2, 2, 3, padding=((0, 1), (2, 0)), weight_initializer="he_normal"),
        Conv1d(3, 6, 5, padding="valid", groups=3, bias_initializer="zeros"),
        ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2),
    ],
)
def test_config_round_trip_rebuilds_the_same_module(module):
    config = module.get_config()
    clone = registered(type(module).__name__).from_config(config)
    assert clone.get_config() == config
    assert repr(clone) == repr(module)
    assert {k: v.shape for k, v in clone.state_dict().items()} == {
        k: v.shape for k, v in module.state_dict().items()
    }


def test_seeded_initialisation_is_reproducible_and_dtype_is_kept():
    a, b = Conv2d(3, 4, 3, rng=5, dtype="float64"), Conv2d(3, 4, 3, rng=5, dtype="float64")
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    assert a.weight.dtype == a.bias.dtype == np.float64
    a.reset_parameters(rng=6)
    assert not np.array_equal(a.weight.data, b.weight.data)


def test_explicit_padding_pairs_pad_asymmetrically():
    module = Conv2d(1, 1, 2, padding=((0, 1), (1, 0)), bias=False, dtype="float64")
    x = np.random.default_rng(0).normal(size=(1, 1, 4, 4))
    expected = F.conv2d(np.pad(x, ((0, 0), (0, 0), (0, 1), (1, 0))), module.weight.data).data
    np.testing.assert_allclose(module(x).data, expected, rtol=1e-12)
    assert "padding=((0, 1), (1, 0))" in repr(module)


def test_module_errors():
    with pytest.raises(ValueError, match=r"in_channels \(3\) must be divisible by groups \(2\)"):
        Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        Conv2d(3, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding must be an int, a tuple; got 'same'"):
        ConvTranspose2d(3, 4, 3, padding="same")
    with pytest.raises(ValueError, match="output_padding .* must be smaller than stride"):
        ConvTranspose2d(3, 4, 3, stride=2, output_padding=2)
    with pytest.raises(ValueError, match="kernel_size must be an int or 2 ints"):
        Conv2d(3, 4, (3, 3, 3))
    with pytest.raises(ValueError, match="only padding_mode='zeros' is supported"):
        Conv2d(3, 4, 3, padding_mode="reflect")
    assert Conv2d(3, 4, 3, padding_mode="zeros").weight.shape == (4, 3, 3, 3)
    with pytest.raises(ValueError, match="Conv2d has no output_padding"):
        Conv2d(3, 4, 3, output_padding=1)  # would otherwise be stored and silently ignored
    with pytest.raises(ValueError, match="images must be NCHW"):
        Conv2d(3, 4, 3)(np.zeros((1, 8, 8, 3), np.float32))
