"""The im2col machinery shared by the convolutions: window geometry, im2col / col2im, the
grouped GEMM and a workspace of reusable scratch arrays.

Layout. A convolution seen as 2-D reads windows of a padded image (N, C, Hp, Wp)::

    cols[c, i, j, n, h, w] = xp[n, c, h*sh + i*dh, w*sw + j*dw]

stored as a (groups, C/groups*kh*kw, N*Ho*row) array ("channel-major": channels and kernel
offsets index rows, (n, h, w) index columns), so the GEMM with the weight
(groups, O/groups, C/groups*kh*kw) yields (O, N*Ho*row), one transposing copy from NCHW.
row is Wo, or Wp for the "wide" layout of stride-1 convolutions on narrow images (see
``im2col``). col2im is the adjoint: one strided add per kernel offset.
"""

import functools
import math
import threading
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Geometry:
    """A convolution seen as 2-D: the image side (N, C, H, W) is padded by ``pads`` and
    sliced into ``out_hw`` windows; ``groups`` split the channels."""

    kernel: tuple
    stride: tuple
    dilation: tuple
    pads: tuple
    groups: int
    in_hw: tuple
    out_hw: tuple

    @functools.cached_property
    def padded_hw(self) -> tuple:
        return tuple(n + a + b for n, (a, b) in zip(self.in_hw, self.pads, strict=True))

    @property
    def wide(self) -> bool:
        """Read stride-1 windows as whole padded rows (see ``im2col``) when output rows are
        short (<= 8): there the longer copies win, on wider images the extra GEMM columns
        cost more (measured: 4x4 and 8x8 maps 7-15% faster, 12 to 32 wide 3-6% slower)."""
        return self.stride == (1, 1) and self.out_hw[1] <= 8

    @property
    def row(self) -> int:
        """The length of one output row in the columns: Wp when wide, else Wo."""
        return self.padded_hw[1] if self.wide else self.out_hw[1]


# ---- scratch memory ---------------------------------------------------------------------------


class Workspace(threading.local):
    """Large scratch arrays kept for reuse, one pool per thread.

    A fresh array of many megabytes costs a page fault per 4 KiB page on its first write
    (filling the 38 MB of columns of a 3x3 convolution of a 32x32x32x32 batch took 9 ms
    fresh, 5 ms reused; reuse took 9% off that layer's training step). Training repeats the
    same shapes every step, so the columns and the other large temporaries come from here and
    go back once dead (the saved columns when the graph releases them). Arrays under 1 MiB are
    left to the allocator; at most 512 MiB are kept.
    """

    limit, smallest = 512 << 20, 64 << 10

    def __init__(self):
        self.free, self.nbytes = {}, 0

    def take(self, shape, dtype) -> np.ndarray:
        """An uninitialised C-contiguous array (reused when one of that size was given)."""
        dtype = np.dtype(dtype)
        stack = self.free.get((math.prod(shape), dtype))  # math.prod: np.prod costs ~7 us
        if not stack:
            return np.empty(shape, dtype)
        array = stack.pop()
        self.nbytes -= array.nbytes
        return array.reshape(shape)

    def zeros(self, shape, dtype) -> np.ndarray:
        array = self.take(shape, dtype)
        array.fill(0)
        return array

    def give(self, *arrays) -> None:
        """Hand back arrays nothing else refers to any more."""
        for array in arrays:
            if array.nbytes < self.smallest or self.nbytes + array.nbytes > self.limit:
                continue
            assert array.flags.c_contiguous
            self.free.setdefault((array.size, array.dtype), []).append(array)
            self.nbytes += array.nbytes


workspace = Workspace()


def clear_workspace() -> None:
    """Free the scratch arrays the convolutions keep for reuse (in this thread)."""
    workspace.free.clear()
    workspace.nbytes = 0


# ---- im2col, col2im and the grouped GEMM ----------------------------------------------------


def _padded(x: np.ndarray, geo: Geometry, tail: int) -> tuple:
    """(x zero-padded by ``geo.pads`` with each (n, c) image flattened and followed by ``tail``
    zeros, shape (N, C, Hp*Wp + tail); whether that is a workspace array, not x itself)."""
    (top, bottom), (left, right) = geo.pads
    if not (top or bottom or left or right or tail):
        return x.reshape(*x.shape[:2], -1), False
    n, c, h, w = x.shape
    hp, wp = geo.padded_hw
    buffer = workspace.zeros((n, c, hp * wp + tail), x.dtype)
    buffer[:, :, : hp * wp].reshape(n, c, hp, wp)[:, :, top : top + h, left : left + w] = x
    return buffer, True


def _window_view(x: np.ndarray, shape: tuple, strides: tuple) -> np.ndarray:
    """A read-only strided view of the contiguous array ``x`` (what ``as_strided`` makes,
    built directly: as_strided's Python wrapper costs ~10 us, a lot for a small image)."""
    if not x.flags.c_contiguous:
        return np.lib.stride_tricks.as_strided(x, shape, strides, writeable=False)
    view = np.ndarray(shape, x.dtype, buffer=x, strides=strides)
    view.flags.writeable = False
    return view


def im2col(x: np.ndarray, geo: Geometry) -> np.ndarray:
    """Columns (groups, C/groups*kh*kw, N*Ho*row) of the padded (N, C, H, W) input x.

    In the general case row = Wo and the copy reads Wo-long strided runs. With stride 1
    ("wide"), a window row continues into the next padded row, so each (c, i, j, n) run is
    ONE contiguous stretch of Ho*Wp values starting at i*dh*Wp + j*dw: the copy moves long
    contiguous blocks, at the price of Wp - Wo extra (garbage) columns per output row, which
    the output copy drops and the backward zeroes. A tail of dw*(kw-1) zeros keeps the last
    run of each image inside its own buffer, so garbage is always finite.
    """
    n, c = x.shape[:2]
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = geo.kernel, geo.stride, geo.dilation, geo.out_hw
    wp = geo.padded_hw[1]
    padded, owned = _padded(x, geo, tail=dw * (kw - 1) if geo.wide else 0)
    if geo.wide:
        xp = padded
        s_n, s_c, s_e = xp.strides
        shape, strides = (c, kh, kw, n, ho * wp), (s_c, s_e * dh * wp, s_e * dw, s_n, s_e)
    else:
        xp = padded.reshape(n, c, -1, wp)
        s_n, s_c, s_h, s_w = xp.strides
        shape = (c, kh, kw, n, ho, wo)
        strides = (s_c, s_h * dh, s_w * dw, s_n, s_h * sh, s_w * sw)
    cols = workspace.take(shape, xp.dtype)
    np.copyto(cols, _window_view(xp, shape, strides))
    if owned:
        workspace.give(padded)
    return cols.reshape(geo.groups, -1, n * ho * geo.row)


def im2col_per_sample(x: np.ndarray, geo: Geometry, ones_row: bool = False) -> np.ndarray:
    """Columns (N, C*kh*kw, Ho*Wo) of the padded (N, C, H, W) input x, one matrix per sample
    (single group only): W (O, C*kh*kw) @ cols is then (N, O, Ho*Wo), NCHW already.
    ``ones_row`` appends a row of ones, so a bias column appended to W adds the bias inside
    the product instead of in another pass over the output.

    Measured for inference (forward only, float32, one thread) against the channel-major
    columns and their transposing output copy: 1.15-1.7x faster on the LeNet and CIFAR-net
    layers, equal on 64->128 channels at 16x16; the wide layout was slower here.
    """
    n, c = x.shape[:2]
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = geo.kernel, geo.stride, geo.dilation, geo.out_hw
    padded, owned = _padded(x, geo, tail=0)
    xp = padded.reshape(n, c, -1, geo.padded_hw[1])
    s_n, s_c, s_h, s_w = xp.strides
    shape = (n, c, kh, kw, ho, wo)
    strides = (s_n, s_c, s_h * dh, s_w * dw, s_h * sh, s_w * sw)
    rows = c * kh * kw
    cols = workspace.take((n, rows + ones_row, ho * wo), xp.dtype)
    np.copyto(cols[:, :rows].reshape(shape), _window_view(xp, shape, strides))
    if ones_row:
        cols[:, rows] = 1
    if owned:
        workspace.give(padded)
    return cols


def col2im(cols: np.ndarray, geo: Geometry, n: int, bias=None) -> np.ndarray:
    """The adjoint of ``im2col``: sum columns back onto the (N, C, H, W) image they came from
    (one strided add per kernel offset), crop the padding, add ``bias`` per channel.

    In the wide layout the garbage columns of ``cols`` must be zero (they land on padding or
    on the next row's first pixels)."""
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = geo.kernel, geo.stride, geo.dilation, geo.out_hw
    (hp, wp), (h, w) = geo.padded_hw, geo.in_hw
    cols = cols.reshape(-1, kh, kw, n, ho * geo.row)
    c = cols.shape[0]
    if geo.wide:
        buffer = workspace.zeros((c, n, hp * wp + dw * (kw - 1)), cols.dtype)  # as cols
        for i in range(kh):
            for j in range(kw):
                start = i * dh * wp + j * dw
                buffer[:, :, start : start + ho * wp] += cols[:, i, j]
        padded = buffer[:, :, : hp * wp].reshape(c, n, hp, wp)
    else:
        padded = buffer = workspace.zeros((c, n, hp, wp), cols.dtype)
        cols = cols.reshape(c, kh, kw, n, ho, wo)
        for i in range(kh):
            rows = slice(i * dh, i * dh + sh * (ho - 1) + 1, sh)
            for j in range(kw):
                padded[:, :, rows, j * dw : j * dw + sw * (wo - 1) + 1 : sw] += cols[:, i, j]
    (top, _), (left, _) = geo.pads
    out = to_nchw(padded[:, :, top : top + h, left : left + w], w, bias)
    workspace.give(buffer)
    return out


def to_nchw(channel_major: np.ndarray, width: int, bias=None) -> np.ndarray:
    """Copy the first ``width`` columns of a (C, N, H, W') array to a new contiguous
    (N, C, H, width) one, adding ``bias`` per channel."""
    c, n, h = channel_major.shape[:3]
    source = channel_major[..., :width].transpose(1, 0, 2, 3)
    out = np.empty((n, c, h, width), channel_major.dtype)
    if bias is None:
        np.copyto(out, source)
    else:
        np.add(source, bias.reshape(1, c, 1, 1), out=out)
    return out


def channel_major(x: np.ndarray, geo: Geometry) -> np.ndarray:
    """(N, C, Ho, Wo) -> contiguous (groups, C/groups, N*Ho*row), garbage columns zero."""
    n, c, ho, wo = x.shape
    out = workspace.take((c, n, ho, geo.row), x.dtype)
    out[..., wo:] = 0
    out[..., :wo] = x.transpose(1, 0, 2, 3)
    return out.reshape(geo.groups, c // geo.groups, -1)


def gemm(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b over a leading group axis, into a workspace array; one plain 2-D GEMM when there
    is a single group."""
    out = workspace.take((a.shape[0], a.shape[1], b.shape[2]), np.result_type(a, b))
    if a.shape[0] == 1:
        np.matmul(a[0], b[0], out=out[0])
    elif a.shape[2] == 1:  # outer products (depthwise input gradient): BLAS-less in matmul
        np.multiply(a, b, out=out)
    else:
        np.matmul(a, b, out=out)
    return out


def gemm_t(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """b @ a^T over the group axis (weight gradients), computed as (a @ b^T)^T: with the
    long axis contracted, BLAS is ~20% faster streaming the wide ``a`` this way round."""
    return gemm(a, b.transpose(0, 2, 1)).transpose(0, 2, 1)
