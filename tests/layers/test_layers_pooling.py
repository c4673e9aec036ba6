"""Keras-style pooling layers: output shapes and values against a loop reference of Keras's
definitions ('valid' / 'same', channels-first), global pools, upsampling, padding, spatial
dropout, config round trips and error messages."""

import math

import numpy as np
import pytest

from nnlab import Tensor, gradcheck
from nnlab.layers import Embedding, GlobalAveragePooling1D, GlobalMaxPooling1D
from nnlab.layers.masks import set_mask
from nnlab.layers.pooling import (
    AveragePooling2D,
    GlobalAveragePooling2D,
    GlobalMaxPooling2D,
    MaxPooling1D,
    MaxPooling2D,
    SpatialDropout2D,
    UpSampling2D,
    ZeroPadding2D,
    same_padding,
)
from nnlab.nn.module import registered


def keras_pool_ref(x, pool, strides, padding, reduce):
    """Pool the trailing axes of ``x`` the way Keras defines it: 'same' gives
    ceil(n / stride) outputs with the odd padding after; only input elements are reduced."""
    spatial = x.shape[2:]
    starts = []
    for n, k, s in zip(spatial, pool, strides, strict=True):
        if padding == "same":
            out = math.ceil(n / s)
            before = max((out - 1) * s + k - n, 0) // 2
        else:
            out, before = (n - k) // s + 1, 0
        starts.append([o * s - before for o in range(out)])
    out = np.empty(x.shape[:2] + tuple(len(v) for v in starts), x.dtype)
    for index in np.ndindex(*out.shape[2:]):
        window = tuple(
            slice(max(st[i], 0), min(st[i] + k, n))
            for st, i, k, n in zip(starts, index, pool, spatial, strict=True)
        )
        block = x[(slice(None), slice(None)) + window]
        out[(slice(None), slice(None)) + index] = reduce(block, axis=tuple(range(2, x.ndim)))
    return out


def _images(shape=(2, 3, 7, 6), seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


# ---- max / average pooling ----------------------------------------------------------------

POOL_CASES = [
    # (pool_size, strides, padding, input H, W, expected H_out, W_out)
    (2, None, "valid", 7, 6, 3, 3),
    (2, None, "same", 7, 6, 4, 3),
    (3, 2, "valid", 7, 6, 3, 2),
    (3, 2, "same", 7, 6, 4, 3),
    ((2, 3), (1, 2), "same", 5, 7, 5, 4),
    (3, 1, "same", 4, 5, 4, 5),
    ((3, 2), 3, "same", 8, 5, 3, 2),
]


@pytest.mark.parametrize("pool,strides,padding,h,w,oh,ow", POOL_CASES)
def test_max_pooling2d_shapes_and_values(pool, strides, padding, h, w, oh, ow):
    x = _images((2, 3, h, w))
    layer = MaxPooling2D(pool, strides, padding)
    y = layer(x)
    assert y.shape == (2, 3, oh, ow) and y.dtype == np.float32
    p = layer.pool_size
    expected = keras_pool_ref(x, p, layer.strides, padding, np.max)
    np.testing.assert_array_equal(y.data, expected)


@pytest.mark.parametrize("pool,strides,padding,h,w,oh,ow", POOL_CASES)
def test_average_pooling2d_shapes_and_values_count_only_inputs(
    pool, strides, padding, h, w, oh, ow
):
    x = _images((2, 3, h, w), seed=1)
    layer = AveragePooling2D(pool, strides, padding)
    y = layer(x)
    assert y.shape == (2, 3, oh, ow)
    expected = keras_pool_ref(x, layer.pool_size, layer.strides, padding, np.mean)
    np.testing.assert_allclose(y.data, expected, rtol=1e-5, atol=1e-6)


def test_keras_same_padding_puts_the_odd_pixel_after():
    assert same_padding(7, 2, 2) == (0, 1)
    assert same_padding(6, 3, 1) == (1, 1)
    assert same_padding(6, 2, 2) == (0, 0)
    assert same_padding(5, 4, 1) == (1, 2)
    x = np.arange(9.0, dtype=np.float32).reshape(1, 1, 3, 3)
    # 'same' average of 2x2 windows, stride 2: the bottom/right windows hold fewer inputs.
    y = AveragePooling2D(2, padding="same")(x).data
    np.testing.assert_allclose(y, [[[[(0 + 1 + 3 + 4) / 4, (2 + 5) / 2], [(6 + 7) / 2, 8]]]])


@pytest.mark.parametrize(
    "pool,strides,padding,length,out_len",
    [
        (2, None, "valid", 9, 4),
        (2, None, "same", 9, 5),
        (3, 2, "same", 8, 4),
        (4, 1, "same", 6, 6),
    ],
)
def test_max_pooling1d_on_channels_first_sequences(pool, strides, padding, length, out_len):
    x = _images((2, 4, length), seed=2)
    layer = MaxPooling1D(pool, strides, padding)
    y = layer(x)
    assert y.shape == (2, 4, out_len)
    expected = keras_pool_ref(x, (pool,), (layer.strides,), padding, np.max)
    np.testing.assert_array_equal(y.data, expected)


def test_pooling_layers_pass_float64_gradchecks():
    x = Tensor(np.random.default_rng(3).normal(size=(1, 2, 5, 5)), requires_grad=True)
    for layer in (
        MaxPooling2D(3, 2, "same", dtype="float64"),
        AveragePooling2D(2, 1, "same", dtype="float64"),
    ):
        assert gradcheck(lambda x, layer=layer: layer(x), [x])


# ---- global pooling -----------------------------------------------------------------------


def test_global_pooling_reduces_height_and_width():
    x = _images((2, 3, 4, 5), seed=4)
    np.testing.assert_allclose(GlobalAveragePooling2D()(x).data, x.mean(axis=(2, 3)), rtol=1e-6)
    np.testing.assert_array_equal(GlobalMaxPooling2D()(x).data, x.max(axis=(2, 3)))
    kept = GlobalAveragePooling2D(keepdims=True)(x)
    assert kept.shape == (2, 3, 1, 1)
    np.testing.assert_allclose(kept.data[:, :, 0, 0], x.mean(axis=(2, 3)), rtol=1e-6)
    np.testing.assert_array_equal(
        GlobalMaxPooling2D(keepdims=True)(x).data, x.max(axis=(2, 3), keepdims=True)
    )


def test_global_average_pooling_gradient_is_uniform():
    x = Tensor(np.ones((2, 3, 4, 5), np.float32), requires_grad=True)
    GlobalAveragePooling2D()(x).backward(np.ones((2, 3), np.float32))
    np.testing.assert_allclose(x.grad, 1 / 20)


# ---- upsampling and padding ---------------------------------------------------------------


def test_upsampling2d_nearest_repeats_pixels():
    x = _images((2, 3, 3, 4), seed=5)
    y = UpSampling2D((2, 3))(x).data
    np.testing.assert_array_equal(y, x.repeat(2, axis=2).repeat(3, axis=3))


def test_upsampling2d_bilinear_uses_half_pixel_centres():
    x = np.array([[[[0.0, 4.0]]]], np.float32)
    y = UpSampling2D((1, 2), interpolation="bilinear")(x).data
    # sources (j + 0.5) / 2 - 0.5 = -0.25 -> 0 (clamped), 0.25, 0.75, 1.25 -> 1 (clamped)
    np.testing.assert_allclose(y, [[[[0.0, 1.0, 3.0, 4.0]]]])


@pytest.mark.parametrize(
    "padding,sides",
    [
        (1, ((1, 1), (1, 1))),
        ((2, 1), ((2, 2), (1, 1))),
        (((0, 2), (3, 1)), ((0, 2), (3, 1))),
    ],
)
def test_zero_padding2d_forms(padding, sides):
    x = _images((2, 3, 4, 5), seed=6)
    y = ZeroPadding2D(padding)(x).data
    np.testing.assert_array_equal(y, np.pad(x, ((0, 0), (0, 0)) + sides))


# ---- spatial dropout ----------------------------------------------------------------------


def test_spatial_dropout2d_drops_whole_channels_only_in_training():
    x = np.ones((4, 32, 3, 3), np.float32)
    layer = SpatialDropout2D(0.5, seed=3)
    y = layer(x).data
    per_channel = y.reshape(4, 32, 9)
    assert np.all(per_channel.min(axis=2) == per_channel.max(axis=2))
    np.testing.assert_array_equal(np.unique(y), [0.0, 2.0])
    again = SpatialDropout2D(0.5, seed=3)(x).data
    np.testing.assert_array_equal(y, again)
    layer.eval()
    np.testing.assert_array_equal(layer(x).data, x)


# ---- configs and errors -------------------------------------------------------------------

LAYERS = [
    MaxPooling2D((2, 3), 1, "same", name="mp"),
    AveragePooling2D(3, (2, 1), "valid"),
    MaxPooling1D(3, 2, "same"),
    GlobalAveragePooling2D(keepdims=True),
    GlobalMaxPooling2D(),
    UpSampling2D(3, interpolation="bilinear"),
    ZeroPadding2D(((1, 2), (3, 4))),
    SpatialDropout2D(0.25, seed=7),
]


@pytest.mark.parametrize("layer", LAYERS, ids=lambda layer: type(layer).__name__)
def test_config_round_trip(layer):
    config = layer.get_config()
    clone = registered(type(layer).__name__).from_config(config)
    assert type(clone) is type(layer)
    assert clone.get_config() == config


def test_config_round_trip_keeps_behaviour():
    x = _images((1, 2, 5, 5), seed=8)
    layer = AveragePooling2D(2, 2, "same")
    clone = AveragePooling2D.from_config(layer.get_config())
    np.testing.assert_array_equal(layer(x).data, clone(x).data)


def test_2d_layers_reject_3d_input_with_layout_hint():
    for layer in (
        MaxPooling2D(name="pool_a"),
        GlobalAveragePooling2D(name="gap_a"),
        UpSampling2D(name="up_a"),
        SpatialDropout2D(0.5, name="sd_a"),
    ):
        with pytest.raises(
            ValueError,
            match=r"expects a 4-D channels-first input \(N, C, H, W\)"
            r", got shape \(3, 8, 8\).*x\[None\]",
        ):
            layer(np.zeros((3, 8, 8), np.float32))
    with pytest.raises(ValueError, match=r"MaxPooling1D '.*' expects a 3-D .*\(N, C, L\)"):
        MaxPooling1D()(np.zeros((2, 8), np.float32))


def test_bad_arguments_get_clear_errors():
    with pytest.raises(ValueError, match="channels_first' only.*transpose"):
        MaxPooling2D(data_format="channels_last")
    with pytest.raises(ValueError, match="'valid' or 'same'"):
        MaxPooling2D(padding="full")
    with pytest.raises(ValueError, match="pool_size must be a positive int"):
        AveragePooling2D(0)
    with pytest.raises(ValueError, match="'nearest' or 'bilinear'"):
        UpSampling2D(interpolation="bicubic")
    with pytest.raises(ValueError, match="ZeroPadding2D padding"):
        ZeroPadding2D((1, 2, 3))
    with pytest.raises(ValueError, match=r"rate must be in \[0, 1\)"):
        SpatialDropout2D(1.0)
    with pytest.raises(ValueError, match=r"'pv'.*at least as large as pool_size \(3, 3\)"):
        MaxPooling2D(3, name="pv")(np.zeros((1, 1, 2, 5), np.float32))


def test_global_pooling1d_over_time_masked_and_channels_first():
    x = np.random.default_rng(0).normal(size=(3, 5, 4))
    np.testing.assert_allclose(GlobalAveragePooling1D(dtype="float64")(x).data, x.mean(1))
    np.testing.assert_allclose(GlobalMaxPooling1D(dtype="float64")(x).data, x.max(1))
    first = GlobalAveragePooling1D(data_format="channels_first", dtype="float64")
    np.testing.assert_allclose(first(x).data, x.mean(2))
    keep = np.arange(5) < np.array([5, 2, 1])[:, None]
    masked = set_mask(Tensor(x), keep)
    avg = GlobalAveragePooling1D(dtype="float64")(masked).data
    peak = GlobalMaxPooling1D(dtype="float64")(masked).data
    for n, length in enumerate([5, 2, 1]):
        np.testing.assert_allclose(avg[n], x[n, :length].mean(0))
        np.testing.assert_allclose(peak[n], x[n, :length].max(0))
    probe = set_mask(Tensor(x, requires_grad=True), keep)
    assert gradcheck(GlobalAveragePooling1D(dtype="float64"), [probe])
    ids = np.array([[4, 2, 0, 0], [1, 0, 0, 0]])
    embed = Embedding(6, 3, mask_zero=True, dtype="float64", rng=0)
    pooled = GlobalAveragePooling1D(dtype="float64")(embed(ids)).data
    np.testing.assert_allclose(pooled[0], embed.embeddings.data[[4, 2]].mean(0))
    with pytest.raises(ValueError, match="data_format must be 'channels_last'"):
        GlobalAveragePooling1D(data_format="NTC")
    nothing_real = set_mask(Tensor(x), np.zeros((3, 5), bool))  # all padding: zeros, not -inf
    np.testing.assert_array_equal(GlobalMaxPooling1D(dtype="float64")(nothing_real).data, 0.0)
    np.testing.assert_array_equal(GlobalAveragePooling1D(dtype="float64")(nothing_real).data, 0.0)
