"""Keras-style convolution layers: lazy build, TensorFlow 'same' padding, Keras weight
layout, configs, regularizers and errors."""

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

import nnlab.functional as F
from nnlab import Tensor, gradcheck, nn, regularizers
from nnlab.layers.conv import Conv1D, Conv2D, DepthwiseConv2D, tf_same_padding
from nnlab.layers.conv_transpose import Conv2DTranspose


def _keras_conv(x, kernel, bias):
    """A 'valid' stride-1 convolution written with the Keras kernel (kh, kw, in, out)."""
    windows = sliding_window_view(x, kernel.shape[:2], axis=(2, 3))  # (N, C, H', W', kh, kw)
    return np.einsum("nchwij,ijcf->nfhw", windows, kernel) + bias[None, :, None, None]


def test_conv2d_builds_lazily_from_the_channel_axis():
    layer = Conv2D(4, 3, activation="relu", rng=0)
    assert layer.parameters() == [] and not layer.built
    x = np.random.default_rng(0).normal(size=(2, 3, 6, 5)).astype(np.float32)
    out = layer(x)
    assert layer.weight.shape == (4, 3, 3, 3) and layer.kernel.shape == (3, 3, 3, 4)
    assert out.dtype == np.float32
    expected = np.maximum(_keras_conv(x, layer.kernel, layer.bias.data), 0)
    np.testing.assert_allclose(out.data, expected, rtol=1e-5, atol=1e-5)
    assert [p.shape for p in layer.parameters()] == [(4, 3, 3, 3), (4,)]
    assert layer.name.startswith("conv2d")


def test_glorot_uniform_kernel_uses_keras_fans():
    layer = Conv2D(64, 3, input_shape=(32, 8, 8), rng=0)
    limit = np.sqrt(6 / (32 * 9 + 64 * 9))
    assert limit * 0.95 < np.abs(layer.kernel).max() <= limit
    np.testing.assert_array_equal(layer.bias.data, 0)


def test_same_padding_with_stride_two_is_tensorflow_s():
    """4x4 input, 3x3 ones kernel, stride 2: TF pads 0 before and 1 after (PyTorch's
    symmetric padding=1 would give other sums)."""
    layer = Conv2D(1, 3, strides=2, padding="same", use_bias=False, input_shape=(1, 4, 4))
    layer.set_weights([np.ones((3, 3, 1, 1), np.float32)])
    out = layer(np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4))
    np.testing.assert_array_equal(out.data, [[[[45, 39], [66, 50]]]])


@pytest.mark.parametrize("size", [5, 6, 7, 8, 9])
@pytest.mark.parametrize("kernel,stride,dilation", [(3, 1, 1), (3, 2, 1), (4, 2, 1), (2, 3, 1),
                                                    (5, 1, 2), (1, 2, 1), (4, 3, 2)])  # fmt: skip
def test_same_output_shapes_and_values_follow_tensorflow(size, kernel, stride, dilation):
    layer = Conv2D(2, kernel, strides=stride, padding="same", dilation_rate=dilation, rng=0,
                   dtype="float64", bias_initializer="ones")  # fmt: skip
    x = np.random.default_rng(size).normal(size=(2, 3, size, size + 1))
    out = layer(x).data
    assert out.shape == (2, 2, -(-size // stride), -(-(size + 1) // stride))
    pads = [tf_same_padding(n, kernel, stride, dilation) for n in (size, size + 1)]
    span = (kernel - 1) * dilation + 1
    for n, (before, after) in zip((size, size + 1), pads, strict=True):
        out_n = -(-n // stride)
        assert before + after == max((out_n - 1) * stride + span - n, 0)
        assert after - before in (0, 1)
    padded = np.pad(x, ((0, 0), (0, 0), *pads))
    expected = F.conv2d(padded, layer.weight.data, layer.bias.data, stride, 0, dilation).data
    np.testing.assert_allclose(out, expected, rtol=1e-12)


def test_conv1d_same_and_causal_padding():
    x = np.random.default_rng(0).normal(size=(2, 3, 10))
    same = Conv1D(4, 4, strides=3, padding="same", dtype="float64", rng=0)
    assert same(x).shape == (2, 4, 4)
    causal = Conv1D(2, 3, padding="causal", dilation_rate=2, dtype="float64", rng=0)
    y = causal(x).data
    assert y.shape == (2, 2, 10)
    bumped = x.copy()
    bumped[:, :, 6] += 1.0
    changed = np.abs(causal(bumped).data - y).max(axis=(0, 1)) > 0
    # output t sees inputs t, t-2, t-4 only: never a later one
    np.testing.assert_array_equal(np.flatnonzero(changed), [6, 8])
    windows = sliding_window_view(np.pad(x, ((0, 0), (0, 0), (4, 0)))[:, :, ::1], 5, axis=2)
    expected = (
        np.einsum("nclk,kcf->nfl", windows[..., ::2], causal.kernel)
        + causal.bias.data[None, :, None]
    )
    np.testing.assert_allclose(y, expected, rtol=1e-12)


@pytest.mark.parametrize("padding", ["same", "valid"])
@pytest.mark.parametrize(
    "kernel,stride,output_padding",
    [(3, 2, None), (4, 2, None), (2, 3, None), (5, 2, None), (1, 2, None), (3, 2, 1),
     (3, 2, 0), (4, 3, 2), (3, 1, None)],
)  # fmt: skip
def test_conv2d_transpose_is_the_adjoint_of_tensorflow_s_conv2d(
    padding, kernel, stride, output_padding
):
    """TF's conv2d_transpose is the gradient of conv2d (same kernel in Keras layout) whose input
    has the transposed layer's output size; check <T(y), x> = <y, C(x)> and the sizes."""
    n = 4
    up = Conv2DTranspose(3, kernel, stride, padding, output_padding, use_bias=False,
                         dtype="float64", rng=0)  # fmt: skip
    y = np.random.default_rng(1).normal(size=(2, 5, n, n))
    out = up(y).data
    span = kernel
    if output_padding is None:
        expected = n * stride if padding == "same" else n * stride + max(span - stride, 0)
    else:
        crop = 2 * (span // 2) if padding == "same" else 0
        expected = (n - 1) * stride + span - crop + output_padding
    assert out.shape == (2, 3, expected, expected)
    down = Conv2D(5, kernel, strides=stride, padding=padding, use_bias=False, dtype="float64")
    down.set_weights(up.get_weights())  # one TF filter (kh, kw, 3, 5) for both
    x = np.random.default_rng(2).normal(size=out.shape)
    forward = down(x).data
    assert forward.shape == y.shape
    np.testing.assert_allclose(np.sum(out * x), np.sum(y * forward), rtol=1e-12)


def test_depthwise_conv2d_keras_layout_and_channel_order():
    layer = DepthwiseConv2D(3, depth_multiplier=2, padding="valid", rng=0, dtype="float64")
    x = np.random.default_rng(0).normal(size=(2, 3, 5, 6))
    out = layer(x).data
    kernel = layer.depthwise_kernel
    assert kernel.shape == (3, 3, 3, 2) and layer.weight.shape == (6, 1, 3, 3)
    windows = sliding_window_view(x, (3, 3), axis=(2, 3))
    expected = np.einsum("nchwij,ijcm->ncmhw", windows, kernel).reshape(2, 6, 3, 4)
    np.testing.assert_allclose(out, expected + layer.bias.data[None, :, None, None], rtol=1e-12)
    # Keras's fans for the (3, 3, 3, 2) kernel: fan_in 27, fan_out 18
    big = DepthwiseConv2D(3, depth_multiplier=2, input_shape=(64, 8, 8), rng=0)
    limit = np.sqrt(6 / (64 * 9 + 2 * 9))
    assert 0.95 * limit < np.abs(big.kernel).max() <= limit


@pytest.mark.parametrize(
    "layer,x_shape",
    [
        (Conv2D(4, (3, 2), groups=2), (2, 6, 5, 5)),
        (Conv1D(3, 3), (2, 2, 7)),
        (Conv2DTranspose(3, 3, strides=2, padding="same"), (1, 2, 3, 3)),
        (DepthwiseConv2D(3, depth_multiplier=2), (1, 2, 5, 5)),
    ],
)
def test_keras_weight_layout_round_trip(layer, x_shape):
    layer.ensure_built(x_shape)
    rng = np.random.default_rng(0)
    weights = [rng.normal(size=w.shape).astype(np.float32) for w in layer.get_weights()]
    layer.set_weights(weights)
    for got, sent in zip(layer.get_weights(), weights, strict=True):
        np.testing.assert_array_equal(got, sent)
    clone = type(layer).from_config(layer.get_config())
    clone.set_weights(weights)  # builds the clone from the Keras kernel
    x = rng.normal(size=x_shape).astype(np.float32)
    np.testing.assert_array_equal(clone(x).data, layer(x).data)


def test_conv2d_kernel_layout_matches_a_keras_reference():
    layer = Conv2D(3, (2, 3), rng=0, dtype="float64")
    kernel = np.random.default_rng(1).normal(size=(2, 3, 4, 3))
    bias = np.array([0.5, -1.0, 2.0])
    layer.set_weights([kernel, bias])
    x = np.random.default_rng(2).normal(size=(2, 4, 5, 6))
    np.testing.assert_allclose(layer(x).data, _keras_conv(x, kernel, bias), rtol=1e-12)


@pytest.mark.parametrize(
    "layer",
    [
        Conv2D(8, 3, strides=2, padding="same", activation="relu", kernel_regularizer="l2"),
        Conv2D(4, (3, 5), dilation_rate=(1, 2), groups=2, use_bias=False, input_shape=(4, 9, 9)),
        Conv1D(4, 5, padding="causal", kernel_initializer="he_normal", activity_regularizer="l1"),
        Conv2DTranspose(3, 4, strides=2, padding="same", output_padding=1),
        DepthwiseConv2D(3, depth_multiplier=2, padding="same", depthwise_regularizer="l2"),
    ],
)
def test_config_round_trip(layer):
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    assert clone.name == layer.name


def test_kernel_and_activity_regularizers_are_in_losses():
    layer = Conv2D(2, 3, input_shape=(1, 5, 5), kernel_regularizer=regularizers.L2(0.1),
                   activity_regularizer="l1", rng=0)  # fmt: skip
    model = nn.Sequential(layer)
    out = model(np.ones((4, 1, 5, 5), np.float32))
    activity, kernel = model.losses
    np.testing.assert_allclose(activity.item(), 0.01 * np.abs(out.data).sum() / 4, rtol=1e-5)
    np.testing.assert_allclose(kernel.item(), 0.1 * np.sum(layer.weight.data**2), rtol=1e-5)
    kernel.backward()
    np.testing.assert_allclose(layer.weight.grad, 0.2 * layer.weight.data, rtol=1e-5)


def test_layer_gradcheck_in_float64():
    layer = Conv2D(3, 3, strides=2, padding="same", activation="tanh", dtype="float64", rng=1)
    x = Tensor(np.random.default_rng(0).normal(size=(2, 2, 5, 6)), requires_grad=True)
    layer(x)
    assert gradcheck(lambda x, w, b: layer(x), [x, layer.weight, layer.bias])


# ---- errors ------------------------------------------------------------------------------------


def test_channels_last_input_after_build_gets_the_conversion_hint():
    layer = Conv2D(4, 3, input_shape=(3, 8, 8), name="conv_probe")
    with pytest.raises(ValueError) as info:
        layer(np.zeros((2, 8, 8, 3), np.float32))
    assert str(info.value) == (
        "Conv2D 'conv_probe' expects 3 input channels on axis 1, got array of shape "
        "(2, 8, 8, 3): images must be NCHW (channels first); convert NHWC with "
        "x.transpose(0, 3, 1, 2)"
    )
    seq = Conv1D(4, 3, input_shape=(5, 20))
    with pytest.raises(ValueError, match=r"convert \(N, L, C\) with x.transpose\(0, 2, 1\)"):
        seq(np.zeros((2, 20, 5), np.float32))


def test_building_from_a_channels_last_looking_image_warns():
    with pytest.warns(UserWarning, match="looks like channels"):
        Conv2D(4, 3)(np.zeros((2, 32, 32, 3), np.float32))


def test_construction_and_build_errors():
    with pytest.raises(ValueError, match="channels-first; got data_format='channels_last'"):
        Conv2D(4, 3, data_format="channels_last")
    with pytest.raises(ValueError, match="padding must be one of"):
        Conv2D(4, 3, padding="causal")
    with pytest.raises(ValueError, match="groups must be a positive divisor of filters"):
        Conv2D(5, 3, groups=2)
    with pytest.raises(ValueError, match="groups=2 must divide the 3 input channels"):
        Conv2D(4, 3, groups=2)(np.zeros((1, 3, 5, 5), np.float32))
    with pytest.raises(
        ValueError, match=r"expects 4-D input \(N, C, H, W\), got shape \(3, 5, 5\)"
    ):
        Conv2D(4, 3)(np.zeros((3, 5, 5), np.float32))
    with pytest.raises(ValueError, match="output_padding 2 must be smaller than strides"):
        Conv2DTranspose(4, 3, strides=2, output_padding=2)
    with pytest.raises(ValueError, match="kernel_size must be an int >= 1"):
        Conv2D(4, 0)
    with pytest.raises(ValueError, match=r"kernel must have shape \(3, 3, 2, 4\)"):
        Conv2D(4, 3, input_shape=(2, 5, 5)).set_weights([np.zeros((3, 3, 4, 2))])
