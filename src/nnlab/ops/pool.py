"""Pooling and resizing over the last two axes of (N, C, H, W) or (C, H, W) arrays: max, average
and adaptive average pooling, nearest and bilinear upsampling. The definitions (output sizes,
ceil_mode, count_include_pad, adaptive windows, bilinear source pixels, which tied maximum gets
the gradient) are PyTorch's.

Windows are visited one kernel offset at a time: for offset (i, j) the strided view
``x[..., i*d :: s, j*d :: s]`` holds that offset's element of every window at once, so the Python
loops run over kernel offsets only, never over samples, channels or pixels.
"""

import numpy as np

from nnlab.autograd.function import Function


def _is_int(value) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _pair(value, name: str, op: str) -> tuple:
    """An int or a pair of ints as (height, width)."""
    pair = (value, value) if _is_int(value) else tuple(value)
    if len(pair) != 2 or not all(_is_int(v) for v in pair):
        raise ValueError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    return int(pair[0]), int(pair[1])


def _paddings(padding, op: str) -> tuple:
    """``padding`` as ((top, bottom), (left, right)).

    An int pads all four sides; a pair (ph, pw) pads each axis symmetrically; an entry of the
    pair may itself be a (before, after) pair (asymmetric, as Keras's 'same' padding needs).
    """
    per_axis = (padding, padding) if _is_int(padding) else tuple(padding)
    if len(per_axis) != 2:
        raise ValueError(f"{op}: padding must be an int or a pair, got {padding!r}")
    sides = []
    for p in per_axis:
        lo, hi = (p, p) if _is_int(p) else tuple(p)
        if not (_is_int(lo) and _is_int(hi)):
            raise ValueError(f"{op}: padding must hold ints, got {padding!r}")
        if lo < 0 or hi < 0:
            raise ValueError(f"{op}: padding must be non-negative, got {padding!r}")
        sides.append((int(lo), int(hi)))
    return tuple(sides)


def check_image(x: np.ndarray, op: str) -> None:
    if x.ndim not in (3, 4):
        raise ValueError(
            f"{op} expects a 4-D (N, C, H, W) or 3-D (C, H, W) input, got shape {x.shape}; "
            f"images are channels-first (NCHW): for NHWC data use x.transpose(0, 3, 1, 2)"
        )


def pooling_output_size(size, kernel, stride, pad_lo, pad_hi, dilation, ceil_mode) -> int:
    """PyTorch's pooled length: floor (or ceil) of (size + pads - span) / stride, plus one;
    in ceil mode the last window must still start inside the input or the left padding."""
    span = dilation * (kernel - 1) + 1
    room = size + pad_lo + pad_hi - span
    if room < 0:
        return 0
    out = (-(-room // stride) if ceil_mode else room // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + pad_lo:
        out -= 1
    return out


class _Windows:
    """Where one pooling call's windows lie: output size, the padding actually applied and
    the strided slice of the padded input that holds each kernel offset."""

    def __init__(self, op, shape, kernel_size, stride, padding, dilation, ceil_mode):
        self.kernel = _pair(kernel_size, "kernel_size", op)
        stride = self.kernel if stride is None or stride == () or stride == [] else stride
        self.stride = _pair(stride, "stride", op)
        self.dilation = _pair(dilation, "dilation", op)
        pads = _paddings(padding, op)
        if min(self.kernel) <= 0 or min(self.stride) <= 0 or min(self.dilation) <= 0:
            raise ValueError(
                f"{op}: kernel_size, stride and dilation must be positive, got kernel_size="
                f"{kernel_size}, stride={stride}, dilation={dilation}"
            )
        for k, (lo, hi) in zip(self.kernel, pads, strict=True):
            if max(lo, hi) > k // 2:
                raise ValueError(
                    f"{op}: padding should be at most half of the kernel size, got "
                    f"padding={padding!r} for kernel_size={kernel_size!r}"
                )
        self.in_size = tuple(shape[-2:])
        self.out = tuple(
            pooling_output_size(n, k, s, lo, hi, d, ceil_mode)
            for n, k, s, (lo, hi), d in zip(
                self.in_size, self.kernel, self.stride, pads, self.dilation, strict=True
            )
        )
        if min(self.out) <= 0:
            raise ValueError(
                f"{op}: input of shape {tuple(shape)} gives output size {self.out}, which is "
                f"too small; the input must be at least as large as the (dilated) kernel "
                f"{self.kernel} after padding {padding!r}"
            )
        self.pads_requested = pads
        # Pad at the end only as far as the last window reaches (ceil mode may reach further
        # than the requested padding, floor mode may not reach it at all).
        reach = [
            (o - 1) * s + d * (k - 1) + 1
            for o, s, d, k in zip(self.out, self.stride, self.dilation, self.kernel, strict=True)
        ]
        self.pads = tuple(
            (lo, max(r - n - lo, 0))
            for (lo, _), r, n in zip(pads, reach, self.in_size, strict=True)
        )
        self.padded_shape = tuple(shape[:-2]) + tuple(
            n + lo + hi for n, (lo, hi) in zip(self.in_size, self.pads, strict=True)
        )
        self.inner = (Ellipsis,) + tuple(
            slice(lo, lo + n) for n, (lo, _) in zip(self.in_size, self.pads, strict=True)
        )

    def pad(self, x: np.ndarray, fill) -> np.ndarray:
        if not any(lo or hi for lo, hi in self.pads):
            return x
        out = np.full(self.padded_shape, fill, dtype=x.dtype)
        out[self.inner] = x
        return out

    def axis_slice(self, axis: int, offset: int) -> slice:
        """Rows (axis 0) or columns (axis 1) of the padded input at one kernel offset."""
        start = offset * self.dilation[axis]
        return slice(start, start + self.stride[axis] * (self.out[axis] - 1) + 1, self.stride[axis])

    def offsets(self):
        """(Ellipsis, rows, cols) slices for every kernel offset, in window (row-major) order."""
        for i in range(self.kernel[0]):
            rows = self.axis_slice(0, i)
            for j in range(self.kernel[1]):
                yield (Ellipsis, rows, self.axis_slice(1, j))

    def overlapping(self) -> bool:
        """Whether two windows can share an input element (then gradients must accumulate)."""
        return any(
            s < d * (k - 1) + 1
            for s, d, k in zip(self.stride, self.dilation, self.kernel, strict=True)
        )


# ---- max pooling --------------------------------------------------------------------------


class MaxPool2d(Function):
    """y[n, c, h, w] = max over the window at (h, w) of the -inf-padded input.

    Forward keeps, per output, the kernel offset of the first maximum in window order (the
    element PyTorch picks; NaN counts as the maximum, as in PyTorch); backward sends each
    output gradient to that element, summing where windows overlap.
    """

    def forward(self, x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
        check_image(x, "max_pool2d")
        win = _Windows("max_pool2d", x.shape, kernel_size, stride, padding, dilation, ceil_mode)
        return self._pool(x, win)

    def _pool(self, x, win):
        fill = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
        xp = win.pad(x, fill)
        slices = list(win.offsets())
        index_dtype = np.uint8 if len(slices) <= 256 else np.int32
        best = xp[slices[0]].copy()
        argmax = np.zeros(best.shape, dtype=index_dtype)
        greater = np.empty(best.shape, dtype=bool)
        step = np.empty(best.shape, dtype=index_dtype)
        for k, where in enumerate(slices[1:], start=1):
            view = xp[where]
            # Offsets come in increasing order, so "argmax = k where view > best" is a
            # branch-free maximum; strict > keeps the first maximum, as PyTorch.
            np.greater(view, best, out=greater)
            np.multiply(greater, index_dtype(k), out=step)
            np.maximum(argmax, step, out=argmax)
            np.maximum(best, view, out=best)  # propagates NaN like PyTorch
        if x.dtype.kind == "f" and np.isnan(best).any():
            # PyTorch's kernel takes every NaN it meets, so the last NaN in window order wins.
            for k, where in enumerate(slices):
                np.copyto(argmax, k, where=np.isnan(xp[where]))
        self.win, self.argmax = win, argmax
        return best

    def backward(self, grad_out):
        win, argmax = self.win, self.argmax
        grad_xp = np.zeros(win.padded_shape, dtype=grad_out.dtype)
        overlapping = win.overlapping()
        # Multiplying by the 0/1 mask is far faster than a masked copy (no branches), but
        # 0 * inf is NaN: fall back to np.where when the incoming gradient is not finite.
        finite = np.isfinite(np.sum(grad_out))
        for k, where in enumerate(win.offsets()):
            chosen = argmax == k
            if not finite:
                grad_xp[where] += np.where(chosen, grad_out, 0)
            elif overlapping:
                grad_xp[where] += grad_out * chosen
            else:  # each input element lies in at most one window: write in place
                np.multiply(grad_out, chosen, out=grad_xp[where])
        return (grad_xp[win.inner],)


def _as_1d(value, name: str, op: str, pad: bool = False):
    """A 1-D pooling argument as the width entry of a 2-D one (height: a unit axis)."""
    if not _is_int(value):
        value = tuple(value)
        if len(value) != 1 and not (pad and len(value) == 2):
            raise ValueError(f"{op}: {name} must be an int or a 1-tuple, got {value!r}")
        value = value[0] if len(value) == 1 else value
    return value


class MaxPool1d(MaxPool2d):
    """Max pooling over the last axis of (N, C, L) or (C, L): 2-D max pooling with a unit
    height. ``padding`` may also be one (left, right) pair."""

    def forward(self, x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
        if x.ndim not in (2, 3):
            raise ValueError(
                f"max_pool1d expects a 3-D (N, C, L) or 2-D (C, L) input, got shape {x.shape}; "
                f"sequences for pooling are channels-first: for (N, L, C) use x.transpose(0, 2, 1)"
            )
        op = "max_pool1d"
        stride = None if stride is None or stride == () else (1, _as_1d(stride, "stride", op))
        x = x[..., None, :]
        win = _Windows(
            op,
            x.shape,
            kernel_size=(1, _as_1d(kernel_size, "kernel_size", op)),
            stride=stride,
            padding=((0, 0), _as_1d(padding, "padding", op, pad=True)),
            dilation=(1, _as_1d(dilation, "dilation", op)),
            ceil_mode=ceil_mode,
        )
        return self._pool(x, win)[..., 0, :]

    def backward(self, grad_out):
        (grad_x,) = super().backward(grad_out[..., None, :])
        return (grad_x[..., 0, :],)


# ---- average pooling ----------------------------------------------------------------------


def _avg_divisor(win: _Windows, count_include_pad: bool) -> np.ndarray:
    """PyTorch's per-output divisor (oh, ow): the window clipped to input + padding, or to
    the input alone when padding is not counted. Separable: rows count times columns count."""
    counts = []
    for axis in (0, 1):
        lo, hi = win.pads_requested[axis]
        n, k, s = win.in_size[axis], win.kernel[axis], win.stride[axis]
        start = np.arange(win.out[axis]) * s - lo
        end = np.minimum(start + k, n + hi)
        if not count_include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, n)
        counts.append(end - start)
    return np.outer(counts[0], counts[1])


class AvgPool2d(Function):
    """y[n, c, h, w] = sum of the zero-padded window at (h, w) / divisor.

    The divisor is the window size clipped to input plus padding (``count_include_pad``) or
    the number of input elements in the window. Windows are summed separably: over kernel
    rows, then kernel columns.
    """

    def forward(
        self, x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True
    ):
        check_image(x, "avg_pool2d")
        win = _Windows("avg_pool2d", x.shape, kernel_size, stride, padding, 1, ceil_mode)
        xp = win.pad(x, 0)
        rows = sum(xp[..., win.axis_slice(0, i), :] for i in range(win.kernel[0]))
        out = sum(rows[..., win.axis_slice(1, j)] for j in range(win.kernel[1]))
        self.divisor = _avg_divisor(win, count_include_pad).astype(x.dtype)
        self.win = win
        return out / self.divisor

    def backward(self, grad_out):
        win = self.win
        g = grad_out / self.divisor
        rows = np.zeros(g.shape[:-1] + (win.padded_shape[-1],), dtype=g.dtype)
        for j in range(win.kernel[1]):
            rows[..., win.axis_slice(1, j)] += g
        grad_xp = np.zeros(win.padded_shape, dtype=g.dtype)
        for i in range(win.kernel[0]):
            grad_xp[..., win.axis_slice(0, i), :] += rows
        return (grad_xp[win.inner],)


# ---- adaptive average pooling -------------------------------------------------------------


def adaptive_windows(size: int, out: int) -> tuple:
    """PyTorch's adaptive windows: start floor(i * size / out), end ceil((i + 1) * size / out)."""
    i = np.arange(out)
    return (i * size) // out, -((-(i + 1) * size) // out)


def _adaptive_output_size(output_size, in_size) -> tuple:
    pair = (output_size, output_size) if np.ndim(output_size) == 0 else tuple(output_size)
    if len(pair) != 2:
        raise ValueError(f"adaptive_avg_pool2d: output_size must be an int or a pair, got {pair}")
    out = tuple(n if o is None else int(o) for o, n in zip(pair, in_size, strict=True))
    if min(out) <= 0:
        raise ValueError(f"adaptive_avg_pool2d: output_size must be positive, got {output_size}")
    return out


def axis_view(vector: np.ndarray, axis: int) -> np.ndarray:
    """Shape a per-position vector to broadcast along ``axis`` (-1 or -2)."""
    return vector if axis == -1 else vector[:, None]


def _adaptive_mean(x: np.ndarray, axis: int, out: int) -> np.ndarray:
    """Mean over each adaptive window along ``axis`` (-1 or -2)."""
    size = x.shape[axis]
    if out == size:
        return x
    if size % out == 0:
        k = size // out
        split = x.shape[:axis] + (out, k) + (x.shape[axis + 1 :] if axis == -2 else ())
        return x.reshape(split).mean(axis=axis)
    starts, ends = adaptive_windows(size, out)
    lengths = ends - starts
    total = 0
    for offset in range(int(lengths.max())):  # loop over window offsets, not positions
        part = np.take(x, np.minimum(starts + offset, size - 1), axis=axis)
        inside = offset < lengths
        total = total + (part if inside.all() else np.where(axis_view(inside, axis), part, 0))
    return total / axis_view(lengths.astype(x.dtype), axis)


def _adaptive_mean_grad(g: np.ndarray, axis: int, size: int) -> np.ndarray:
    out = g.shape[axis]
    if out == size:
        return g
    if size % out == 0:
        k = size // out
        return np.repeat(g / np.asarray(k, g.dtype), k, axis=axis)
    starts, ends = adaptive_windows(size, out)
    position = np.arange(size)
    weights = (position >= starts[:, None]) & (position < ends[:, None])
    weights = (weights / (ends - starts)[:, None]).astype(g.dtype)  # (out, size)
    return g @ weights if axis == -1 else np.matmul(weights.T, g)


class AdaptiveAvgPool2d(Function):
    """Average pooling to a fixed (H_out, W_out): output (h, w) averages input rows
    [floor(h*H/H_out), ceil((h+1)*H/H_out)) and the matching columns. An ``output_size``
    entry of None keeps that axis. Divisible sizes are a reshape-mean; others sum the windows
    one offset at a time (at most ceil(H/H_out) + 1 steps per axis)."""

    def forward(self, x, output_size):
        check_image(x, "adaptive_avg_pool2d")
        oh, ow = _adaptive_output_size(output_size, x.shape[-2:])
        self.in_size = x.shape[-2:]
        return _adaptive_mean(_adaptive_mean(x, -1, ow), -2, oh)

    def backward(self, grad_out):
        h, w = self.in_size
        return (_adaptive_mean_grad(_adaptive_mean_grad(grad_out, -2, h), -1, w),)
