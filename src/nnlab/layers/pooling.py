"""Keras-style pooling, upsampling, padding and spatial-dropout layers.

Layout: channels-first, like the rest of nnlab (and PyTorch): images are (N, C, H, W) and
sequences for 1-D pooling (N, C, L). Keras's default is channels-last (N, H, W, C); convert
such data with ``x.transpose(0, 3, 1, 2)`` (images) or ``x.transpose(0, 2, 1)`` (sequences).
Passing ``data_format='channels_last'`` raises an error that says so.

Padding follows Keras: 'valid' uses whole windows only; 'same' pads so that the output size
is ceil(input / stride), putting the odd pixel of padding at the bottom/right (TensorFlow's
rule), and average pooling then averages over the input elements of each window only.
"""

import numpy as np

from nnlab import functional as F
from nnlab.layers.base import Layer
from nnlab.layers.masks import get_mask
from nnlab.nn.module import register


def _pair(value, name: str, layer: str) -> tuple:
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, int) and v > 0 for v in pair):
        raise ValueError(f"{layer} {name} must be a positive int or a pair of them, got {value!r}")
    return pair


def _single(value, name: str, layer: str) -> int:
    if not isinstance(value, int):
        value = tuple(value)
        value = value[0] if len(value) == 1 else value
    if not isinstance(value, int) or value <= 0:
        raise ValueError(f"{layer} {name} must be a positive int, got {value!r}")
    return value


def _check_data_format(data_format, layer: str) -> None:
    if data_format not in (None, "channels_first"):
        raise ValueError(
            f"{layer} supports data_format='channels_first' only (nnlab is NCHW), got "
            f"{data_format!r}; transpose channels-last images with x.transpose(0, 3, 1, 2)"
        )


def _check_rank(layer: Layer, x, ndim: int) -> None:
    if x.ndim == ndim:
        return
    if ndim == 4:
        expected, fix = "(N, C, H, W)", "x.transpose(0, 3, 1, 2) for channels-last (N, H, W, C)"
    else:
        expected, fix = "(N, C, L)", "x.transpose(0, 2, 1) for channels-last (N, L, C)"
    raise ValueError(
        f"{type(layer).__name__} '{layer.name}' expects a {ndim}-D channels-first input "
        f"{expected}, got shape {tuple(x.shape)}; add the batch axis with x[None] for one "
        f"sample, or use {fix}"
    )


def same_padding(size: int, pool: int, stride: int) -> tuple:
    """Keras/TensorFlow 'same' padding of one axis: (before, after) so that the output
    has ceil(size / stride) entries; the odd pixel goes after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + pool - size, 0)
    return total // 2, total - total // 2


def _paddings(layer, spatial, pool, strides) -> tuple:
    """Per-axis (before, after) padding for ``layer.padding``; checks 'valid' inputs fit."""
    if layer.padding == "same":
        return tuple(same_padding(n, k, s) for n, k, s in zip(spatial, pool, strides, strict=True))
    if any(n < k for n, k in zip(spatial, pool, strict=True)):
        raise ValueError(
            f"{type(layer).__name__} '{layer.name}' with padding='valid' needs inputs at least "
            f"as large as pool_size {pool}, got spatial size {tuple(spatial)}; use "
            f"padding='same' or a smaller pool_size"
        )
    return ((0, 0),) * len(spatial)


def _padding_mode(padding, layer: str) -> str:
    mode = str(padding).lower()
    if mode not in ("valid", "same"):
        raise ValueError(f"{layer} padding must be 'valid' or 'same', got {padding!r}")
    return mode


class _Pooling2D(Layer):
    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **base):
        super().__init__(**base)
        layer = type(self).__name__
        _check_data_format(data_format, layer)
        self.pool_size = _pair(pool_size, "pool_size", layer)
        self.strides = self.pool_size if strides is None else _pair(strides, "strides", layer)
        self.padding = _padding_mode(padding, layer)

    def _pads(self, x) -> tuple:
        _check_rank(self, x, 4)
        return _paddings(self, x.shape[2:], self.pool_size, self.strides)

    def get_config(self) -> dict:
        return {
            **self.base_config(),
            "pool_size": list(self.pool_size),
            "strides": list(self.strides),
            "padding": self.padding,
        }

    def extra_repr(self) -> str:
        return (
            f"pool_size={self.pool_size}, strides={self.strides}, padding={self.padding!r}, "
            f"name={self.name!r}"
        )


@register
class MaxPooling2D(_Pooling2D):
    """Max over (pool_h, pool_w) windows of (N, C, H, W) images (Keras arguments).

    Args:
        pool_size: int or (pool_h, pool_w) (default 2).
        strides: int or pair (default: ``pool_size``).
        padding: 'valid' (output floor((H - pool) / stride) + 1) or 'same'
            (output ceil(H / stride); padding never wins the max).

    Shape:
        (N, C, H, W) -> (N, C, H_out, W_out)
    """

    def call(self, x):
        return F.max_pool2d(x, self.pool_size, self.strides, self._pads(x))


@register
class AveragePooling2D(_Pooling2D):
    """Mean over (pool_h, pool_w) windows of (N, C, H, W) images (Keras arguments).

    With padding='same' each output averages the input elements inside its window only
    (the padding is not counted), as Keras does.

    Args:
        pool_size, strides, padding: as MaxPooling2D.

    Shape:
        (N, C, H, W) -> (N, C, H_out, W_out)
    """

    def call(self, x):
        pads = self._pads(x)
        return F.avg_pool2d(x, self.pool_size, self.strides, pads, count_include_pad=False)


@register
class MaxPooling1D(Layer):
    """Max over windows of the last axis of channels-first sequences (N, C, L).

    Args:
        pool_size: window length (default 2).
        strides: step (default: ``pool_size``).
        padding: 'valid' or 'same' (output ceil(L / stride)).

    Shape:
        (N, C, L) -> (N, C, L_out)
    """

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **base):
        super().__init__(**base)
        layer = type(self).__name__
        _check_data_format(data_format, layer)
        self.pool_size = _single(pool_size, "pool_size", layer)
        self.strides = self.pool_size if strides is None else _single(strides, "strides", layer)
        self.padding = _padding_mode(padding, layer)

    def call(self, x):
        _check_rank(self, x, 3)
        (pads,) = _paddings(self, x.shape[2:], (self.pool_size,), (self.strides,))
        return F.max_pool1d(x, self.pool_size, self.strides, pads)

    def get_config(self) -> dict:
        return {
            **self.base_config(),
            "pool_size": self.pool_size,
            "strides": self.strides,
            "padding": self.padding,
        }


class _GlobalPooling2D(Layer):
    def __init__(self, data_format=None, keepdims=False, **base):
        super().__init__(**base)
        _check_data_format(data_format, type(self).__name__)
        self.keepdims = bool(keepdims)

    def get_config(self) -> dict:
        return {**self.base_config(), "keepdims": self.keepdims}


@register
class GlobalAveragePooling2D(_GlobalPooling2D):
    """Mean over all of H and W: (N, C, H, W) -> (N, C), or (N, C, 1, 1) with keepdims."""

    def call(self, x):
        _check_rank(self, x, 4)
        return F.mean(x, axis=(2, 3), keepdims=self.keepdims)


@register
class GlobalMaxPooling2D(_GlobalPooling2D):
    """Max over all of H and W: (N, C, H, W) -> (N, C), or (N, C, 1, 1) with keepdims.
    Tied maxima share the gradient equally (as TensorFlow's reduce_max)."""

    def call(self, x):
        _check_rank(self, x, 4)
        return F.max(x, axis=(2, 3), keepdims=self.keepdims)


class _GlobalPooling1D(Layer):
    """Pooling over the whole time axis of (N, T, F) sequences (Keras's default
    'channels_last'), or over L of channels-first (N, C, L) maps with
    ``data_format='channels_first'`` (a Conv1D's output). Masked steps are left out."""

    def __init__(self, data_format="channels_last", keepdims=False, **base):
        super().__init__(**base)
        if data_format not in ("channels_last", "channels_first"):
            raise ValueError(
                f"{type(self).__name__} data_format must be 'channels_last' (N, T, F) or "
                f"'channels_first' (N, C, L), got {data_format!r}"
            )
        self.data_format, self.keepdims = data_format, bool(keepdims)

    def call(self, x):
        if x.ndim != 3:
            raise ValueError(
                f"{type(self).__name__} '{self.name}' expects a 3-D input, got {tuple(x.shape)}"
            )
        axis = 1 if self.data_format == "channels_last" else 2
        mask = get_mask(x)
        if mask is not None and axis == 1:
            return self._masked(x, mask[:, :, None])
        return self._reduce(x, axis)

    def get_config(self) -> dict:
        return {**self.base_config(), "data_format": self.data_format, "keepdims": self.keepdims}


@register
class GlobalAveragePooling1D(_GlobalPooling1D):
    """Mean over the time axis: (N, T, F) -> (N, F); the mean of the real steps only when
    the input carries a mask (``Embedding(mask_zero=True)``)."""

    def _reduce(self, x, axis):
        return F.mean(x, axis=axis, keepdims=self.keepdims)

    def _masked(self, x, keep):
        counts = np.maximum(keep.sum(axis=1, keepdims=self.keepdims), 1).astype(x.dtype)
        return F.sum(x * keep.astype(x.dtype), axis=1, keepdims=self.keepdims) / counts


@register
class GlobalMaxPooling1D(_GlobalPooling1D):
    """Max over the time axis: (N, T, F) -> (N, F), over the real steps only when the input
    carries a mask (0 for a sequence with none). Tied maxima share the gradient equally."""

    def _reduce(self, x, axis):
        return F.max(x, axis=axis, keepdims=self.keepdims)

    def _masked(self, x, keep):
        peak = F.max(F.where(keep, x, np.finfo(x.dtype).min), axis=1, keepdims=self.keepdims)
        return F.where(keep.any(axis=1, keepdims=self.keepdims), peak, 0.0)


@register
class UpSampling2D(Layer):
    """Repeat (nearest) or interpolate (bilinear, half-pixel centres) images by integer
    factors.

    Args:
        size: int or (sh, sw) (default 2).
        interpolation: 'nearest' or 'bilinear'.

    Shape:
        (N, C, H, W) -> (N, C, H * sh, W * sw)
    """

    def __init__(self, size=2, data_format=None, interpolation="nearest", **base):
        super().__init__(**base)
        layer = type(self).__name__
        _check_data_format(data_format, layer)
        self.size = _pair(size, "size", layer)
        if interpolation not in ("nearest", "bilinear"):
            raise ValueError(
                f"{layer} interpolation must be 'nearest' or 'bilinear', got {interpolation!r}"
            )
        self.interpolation = interpolation

    def call(self, x):
        _check_rank(self, x, 4)
        return F.upsample(x, self.size, self.interpolation)

    def get_config(self) -> dict:
        return {**self.base_config(), "size": list(self.size), "interpolation": self.interpolation}


@register
class ZeroPadding2D(Layer):
    """Zero rows and columns around (N, C, H, W) images.

    Args:
        padding: int (all sides), (h, w) (h rows top and bottom, w columns left and right)
            or ((top, bottom), (left, right)).

    Shape:
        (N, C, H, W) -> (N, C, H + top + bottom, W + left + right)
    """

    def __init__(self, padding=1, data_format=None, **base):
        super().__init__(**base)
        _check_data_format(data_format, type(self).__name__)
        per_axis = (padding, padding) if isinstance(padding, int) else tuple(padding)
        try:
            sides = tuple((p, p) if isinstance(p, int) else tuple(p) for p in per_axis)
        except TypeError:
            sides = ()
        valid = len(sides) == 2 and all(
            len(s) == 2 and all(isinstance(v, int) and v >= 0 for v in s) for s in sides
        )
        if not valid:
            raise ValueError(
                f"ZeroPadding2D padding must be a non-negative int, (h, w) or "
                f"((top, bottom), (left, right)), got {padding!r}"
            )
        self.padding = sides

    def call(self, x):
        _check_rank(self, x, 4)
        return F.pad(x, ((0, 0), (0, 0)) + self.padding)

    def get_config(self) -> dict:
        return {**self.base_config(), "padding": [list(s) for s in self.padding]}


@register
class SpatialDropout2D(Layer):
    """Drop whole channels of (N, C, H, W) with probability ``rate`` while training, scaling
    the kept ones by 1 / (1 - rate); the identity at inference.

    Args:
        rate: fraction of channels to drop, in [0, 1).
        seed: seed of the layer's Generator (or pass ``rng``).
    """

    def __init__(self, rate: float, data_format=None, seed: int | None = None, **base):
        if seed is not None:
            base.setdefault("rng", seed)
        super().__init__(**base)
        _check_data_format(data_format, type(self).__name__)
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"SpatialDropout2D rate must be in [0, 1), got {rate}")
        self.rate, self.seed = float(rate), seed

    def call(self, x):
        _check_rank(self, x, 4)
        return F.dropout2d(x, self.rate, training=self.training, rng=self.rng)

    def get_config(self) -> dict:
        return {**self.base_config(), "rate": self.rate, "seed": self.seed}
