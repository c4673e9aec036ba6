"""Checking a convolution call's arguments and working out its geometry: ranks, channels,
groups and bias against the weight (errors that say how to fix the call), stride, dilation
and PyTorch's padding forms turned into a ``Geometry`` (cached: a network repeats the same
few calls every step)."""

import functools

import numpy as np

from nnlab.ops.im2col import Geometry

_LAYOUT_HINTS = {
    1: "sequences must be (N, C, L); convert (N, L, C) with x.transpose(0, 2, 1)",
    2: "images must be NCHW; convert NHWC with x.transpose(0, 3, 1, 2)",
}
_AXES = {1: "(N, C, L)", 2: "(N, C, H, W)"}


def _ints(value, n: int, what: str, op: str, minimum: int) -> tuple:
    """An int or a sequence of ``n`` ints (each >= minimum) as an n-tuple."""
    items = (value,) * n if isinstance(value, int | np.integer) else tuple(value)
    if len(items) != n or not all(isinstance(v, int | np.integer) for v in items):
        raise ValueError(f"{op}: {what} must be an int or {n} ints, got {value!r}")
    if min(items) < minimum:
        raise ValueError(f"{op}: {what} must be >= {minimum}, got {value!r}")
    return tuple(int(v) for v in items)


def _pads(padding, n, kernel, stride, dilation, op: str, transposed=False) -> tuple:
    """Padding as n (before, after) pairs. 'same' pads d*(k-1) in total, the odd one after."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * n
        if padding != "same" or transposed:
            allowed = "an int or pairs" if transposed else "an int, pairs, 'valid' or 'same'"
            raise ValueError(f"{op}: padding must be {allowed}, got {padding!r}")
        if any(s != 1 for s in stride):
            raise ValueError(
                f"{op}: padding='same' needs stride 1 (as PyTorch), got stride {stride}; pad "
                "explicitly, or use the Keras layers, whose 'same' handles strides as TensorFlow"
            )
        totals = [d * (k - 1) for k, d in zip(kernel, dilation, strict=True)]
        return tuple((t // 2, t - t // 2) for t in totals)
    if not isinstance(padding, int | np.integer) and any(
        not isinstance(p, int | np.integer) for p in padding
    ):
        pairs = tuple(_ints(p, 2, "padding", op, 0) for p in padding)
        if len(pairs) == n:
            return pairs
        raise ValueError(f"{op}: padding needs {n} (before, after) pairs, got {padding!r}")
    return tuple((p, p) for p in _ints(padding, n, "padding", op, 0))


def lift(array: np.ndarray, spatial: int) -> np.ndarray:
    """Give 1-D arrays (N, C, L) a unit height axis so every convolution runs as 2-D."""
    return array if spatial == 2 else array[:, :, None, :]


def check_shapes(op, spatial, x_shape, w_shape, b_shape, groups, transposed) -> None:
    """Rank, groups, channel and bias checks with messages that say how to fix the call."""
    rank = spatial + 2
    if len(x_shape) != rank:
        fix = "; add a batch axis with x[None]" if len(x_shape) == rank - 1 else ""
        raise ValueError(
            f"{op} expects a {rank}-D input {_AXES[spatial]}, got shape {x_shape}{fix}"
        )
    if len(w_shape) != rank:
        layout = "(in, out/groups" if transposed else "(out, in/groups"
        raise ValueError(f"{op} expects a {rank}-D weight {layout}, *kernel), got shape {w_shape}")
    if not isinstance(groups, int | np.integer) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    in_channels = w_shape[0] if transposed else w_shape[1] * groups
    out_channels = w_shape[1] * groups if transposed else w_shape[0]
    if w_shape[0] % groups:
        role = "in_channels" if transposed else "out_channels"
        raise ValueError(
            f"{op}: groups={groups} must divide {role} {w_shape[0]} (weight shape {w_shape})"
        )
    channels = x_shape[1]
    if channels != in_channels:
        if channels % groups:
            raise ValueError(
                f"{op}: groups={groups} does not divide the input's {channels} channels "
                f"(input shape {x_shape})"
            )
        fix = _LAYOUT_HINTS[spatial] if x_shape[-1] == in_channels else "axis 1 holds channels"
        raise ValueError(
            f"{op} expects input with {in_channels} channels (weight shape {w_shape}), got "
            f"input of shape {x_shape}: {fix}"
        )
    if b_shape is not None and b_shape != (out_channels,):
        raise ValueError(f"{op}: bias must have shape ({out_channels},), got {b_shape}")


def conv_geometry(op, spatial, x_shape, w_shape, stride, padding, dilation, groups):
    """The Geometry of a call, cached: a network repeats the same few calls every step, and
    working it out again costs ~10 us, a lot next to a small convolution."""
    try:
        return _cached_geometry(op, spatial, x_shape, w_shape, stride, padding, dilation, groups)
    except TypeError:  # unhashable arguments (lists): work it out uncached
        return _geometry(op, spatial, x_shape, w_shape, stride, padding, dilation, groups)


def _geometry(op, spatial, x_shape, w_shape, stride, padding, dilation, groups):
    kernel = tuple(w_shape[2:])
    stride = _ints(stride, spatial, "stride", op, 1)
    dilation = _ints(dilation, spatial, "dilation", op, 1)
    pads = _pads(padding, spatial, kernel, stride, dilation, op)
    in_hw = tuple(x_shape[2:])
    span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation, strict=True))
    padded = tuple(n + a + b for n, (a, b) in zip(in_hw, pads, strict=True))
    if any(s > p for s, p in zip(span, padded, strict=True)):
        raise ValueError(
            f"{op}: the kernel {kernel} with dilation {dilation} spans {span}, larger than the "
            f"padded input {padded} (input {in_hw}, padding {pads}); use a smaller kernel or "
            "more padding"
        )
    out = tuple((p - s) // st + 1 for p, s, st in zip(padded, span, stride, strict=True))
    return _lift2d(Geometry(kernel, stride, dilation, pads, int(groups), in_hw, out), spatial)


_cached_geometry = functools.lru_cache(maxsize=512)(_geometry)


def _lift2d(geo: Geometry, spatial: int) -> Geometry:
    if spatial == 2:
        return geo
    return Geometry(
        (1,) + geo.kernel,
        (1,) + geo.stride,
        (1,) + geo.dilation,
        ((0, 0),) + geo.pads,
        geo.groups,
        (1,) + geo.in_hw,
        (1,) + geo.out_hw,
    )


def transpose_geometry(x_shape, w_shape, stride, padding, output_padding, dilation, groups):
    """The geometry of the conv2d whose input gradient this transposed convolution is."""
    op = "conv_transpose2d"
    kernel = tuple(w_shape[2:])
    stride = _ints(stride, 2, "stride", op, 1)
    dilation = _ints(dilation, 2, "dilation", op, 1)
    extra = _ints(output_padding, 2, "output_padding", op, 0)
    pads = _pads(padding, 2, kernel, stride, dilation, op, transposed=True)
    if any(e >= max(s, d) for e, s, d in zip(extra, stride, dilation, strict=True)):
        raise ValueError(
            f"{op}: output_padding {extra} must be smaller than stride {stride} or dilation "
            f"{dilation} (per axis)"
        )
    in_hw = tuple(x_shape[2:])
    out = []
    for n, k, s, d, (a, b), e in zip(in_hw, kernel, stride, dilation, pads, extra, strict=True):
        size = (n - 1) * s - a - b + d * (k - 1) + e + 1
        if size < 1:
            raise ValueError(
                f"{op}: padding {pads} crops away the whole output of input {in_hw} with kernel "
                f"{kernel} and stride {stride}; use less padding"
            )
        out.append(size)
    # Seen from the conv2d it transposes, the output is the image and x the windows.
    return Geometry(kernel, stride, dilation, pads, int(groups), tuple(out), in_hw)


def bias_shape(array):
    return None if array is None else array.shape
