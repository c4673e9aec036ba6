"""Convolutions (cross-correlations, as PyTorch) through im2col and one GEMM.

Forward, for a padded input xp (N, C, Hp, Wp) and weight W (O, C/g, kh, kw) in g groups::

    cols[c, i, j, n, h, w] = xp[n, c, h*sh + i*dh, w*sw + j*dw]     (a strided view, one copy)
    y[n, o, h, w] = sum_{c, i, j} W[o, c, i, j] cols[c, i, j, n, h, w] + b[o]

The columns are laid out (C*kh*kw, N*Ho*Wo), channel-major: the copy that fills them reads
image rows, groups are a leading axis of one batched matmul, and the product comes out as
(O, N*Ho*Wo), one transposing copy away from NCHW (the bias add rides on that copy).
Measured (forward + backward, one thread) against (N*Ho*Wo, C*kh*kw) columns from an NHWC
copy and per-sample (N, C*kh*kw, Ho*Wo) batched products: the NHWC layout lost everywhere
(its backward up to 2x slower); per-sample products were up to 7% faster on the small LeNet
and CIFAR-input layers but 19% slower on the 32->64-channel 3x3 layer, and need one GEMM per
sample and group.

Backward reuses the saved columns: dW = g_y @ cols^T is one GEMM; dx is col2im of W^T g_y,
a strided add into the padded gradient for each of the kh*kw kernel offsets (the only Python
loop), then the padding is cropped away. For a stride-1 convolution with no more output than
input channels, dx is instead computed as what it equals, a "full" convolution of g_y
(padded by d*(k-1) minus the forward padding) with the flipped, transposed kernel: its
im2col copy is cheaper than the nine strided adds of col2im, whose short rows (one output
row each) make NumPy's loop overhead dominate. Measured (float32, batch 32, 2 threads):
32->32 channels at 30x30 10.0 -> 7.4 ms, 64->64 at 12x12 4.9 -> 3.3 ms; with more output
than input channels its GEMM and copy grow and col2im stays ahead (32->64 at 14x14 3.3 vs
4.3 ms). Large temporaries come from a per-thread workspace (``Workspace``) so that training
steps do not page-fault fresh memory every call.

The transposed convolution is the same pair read the other way round: its forward is
conv2d's input gradient (col2im of W^T x) and its backward is conv2d's forward (dx) and
weight gradient (dW), so both share the helpers of ``nnlab.ops.im2col``.

Padding accepts PyTorch's forms (an int, one int per spatial axis, 'valid', 'same' with
stride 1, extra padding for even kernels going to the right/bottom as PyTorch) and, as an
nnlab extension, explicit ``(before, after)`` pairs per axis, e.g. ``((0, 1), (0, 1))``:
the Keras layers use it for TensorFlow's 'same' padding with strides, which can be
asymmetric.
"""

import numpy as np

from nnlab.autograd.function import Function
from nnlab.ops.conv_args import (
    bias_shape,
    check_shapes,
    conv_geometry,
    lift,
    transpose_geometry,
)
from nnlab.ops.im2col import (
    Geometry,
    channel_major,
    col2im,
    gemm,
    gemm_t,
    im2col,
    im2col_per_sample,
    to_nchw,
    workspace,
)
from nnlab.ops.reduce import channel_sums, row_sums


def _cast(grad, meta):
    """``grad`` in the dtype of the input it belongs to (``meta`` = (shape, dtype))."""
    return None if grad is None else grad.astype(meta[1], copy=False)


# ---- the Functions --------------------------------------------------------------------------


class Conv2d(Function):
    """2-D convolution (cross-correlation), as ``torch.nn.functional.conv2d``.

    Inputs x (N, C_in, H, W), weight (C_out, C_in/groups, kH, kW), bias (C_out,) or None.
    Params: stride, dilation (int or pair), padding (int, pair, 'valid', 'same', or
    ((top, bottom), (left, right))), groups. Output (N, C_out, H', W') with
    H' = (H + top + bottom - dilation*(kH - 1) - 1) // stride + 1, likewise W'.
    """

    name = "conv2d"
    spatial = 2

    def forward(self, x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
        op, spatial = self.name, self.spatial
        check_shapes(op, spatial, x.shape, weight.shape, bias_shape(bias), groups, False)
        geo = conv_geometry(op, spatial, x.shape, weight.shape, stride, padding, dilation, groups)
        x4, w4 = lift(x, spatial), lift(weight, spatial)
        if x.shape[0] == 0:
            y = _empty_batch(self, x, weight, bias, (0, w4.shape[0], *geo.out_hw))
            return y if spatial == 2 else y[:, :, 0, :]
        if geo.groups == 1 and not any(self.needs_input_grad):
            y = _conv_per_sample(x4, w4, bias, geo)
            return y if spatial == 2 else y[:, :, 0, :]
        self.cols = im2col(x4, geo)  # (g, C/g*kh*kw, N*Ho*row)
        self.weight4 = w4
        self.geo, self.x_meta, self.w_meta = geo, (x.shape, x.dtype), (weight.shape, weight.dtype)
        out = gemm(_grouped(w4, geo.groups), self.cols)
        y = to_nchw(out.reshape(w4.shape[0], x.shape[0], geo.out_hw[0], -1), geo.out_hw[1], bias)
        workspace.give(out)
        return y if spatial == 2 else y[:, :, 0, :]

    def backward(self, grad_out):
        if "empty_metas" in self.__dict__:
            return _empty_batch_grads(self)
        geo, cols, wg = self.geo, self.cols, _grouped(self.weight4, self.geo.groups)
        go = channel_major(lift(grad_out, self.spatial), geo)  # (g, O/g, N*Ho*row)
        grad_x = grad_w = grad_b = None
        if self.needs_input_grad[0]:
            if _full_conv_pays(geo, wg.shape[1], self.x_meta[0][1]):
                grad_x = _full_conv_input_grad(lift(grad_out, self.spatial), self.weight4, geo)
            else:
                grad_cols = gemm(wg.transpose(0, 2, 1), go)
                grad_x = col2im(grad_cols, geo, grad_out.shape[0])
                workspace.give(grad_cols)
            grad_x = grad_x.reshape(self.x_meta[0])
        if self.needs_input_grad[1]:
            grad_w = gemm_t(cols, go).reshape(self.w_meta[0])
        if len(self.needs_input_grad) > 2 and self.needs_input_grad[2]:
            grad_b = row_sums(go.reshape(-1, go.shape[2]))
        workspace.give(go)
        return _cast(grad_x, self.x_meta), _cast(grad_w, self.w_meta), grad_b

    def release(self) -> None:
        if "cols" in self.__dict__:
            workspace.give(self.cols)
        super().release()


def _empty_batch(fn, x, weight, bias, out_shape) -> np.ndarray:
    """The output of a convolution of no samples (PyTorch allows them: a data split or a
    filtered batch can come out empty); its backward gives zero weight and bias gradients."""
    fn.empty_metas = tuple(None if a is None else (a.shape, a.dtype) for a in (x, weight, bias))
    return np.zeros(out_shape, np.result_type(x, weight))


def _empty_batch_grads(fn) -> tuple:
    return tuple(None if meta is None else np.zeros(*meta) for meta in fn.empty_metas)


def _grouped(weight, groups: int) -> np.ndarray:
    """The (groups, O/groups, C/groups*kh*kw) view of a (O, C/groups, kh, kw) weight."""
    return weight.reshape(groups, weight.shape[0] // groups, -1)


def _full_conv_pays(geo, out_channels: int, in_channels: int) -> bool:
    """Whether conv2d's input gradient is cheaper as a full convolution (see the module
    docstring): stride 1, one group, padding within the kernel's reach, and no more output
    than input channels."""
    reach = [d * (k - 1) for k, d in zip(geo.kernel, geo.dilation, strict=True)]
    return (
        geo.stride == (1, 1)
        and geo.groups == 1
        and out_channels <= in_channels
        and all(max(pad) <= r for pad, r in zip(geo.pads, reach, strict=True))
    )


def _full_conv_input_grad(grad_out, weight, geo) -> np.ndarray:
    """dL/dx of a stride-1 conv2d as a convolution of grad_out (N, O, Ho, Wo), padded by
    d*(k-1) - pad on each side, with the kernel flipped in space and transposed to
    (C, O, kh, kw)::

        dx[n, c, h, w] = sum_{o, i, j} g[n, o, h + top - i*d, w + left - j*d] W[o, c, i, j]
    """
    flipped = np.ascontiguousarray(weight[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))
    pads = tuple(
        (d * (k - 1) - a, d * (k - 1) - b)
        for k, d, (a, b) in zip(geo.kernel, geo.dilation, geo.pads, strict=True)
    )
    full = Geometry(geo.kernel, (1, 1), geo.dilation, pads, 1, tuple(grad_out.shape[2:]), geo.in_hw)
    cols = im2col(np.ascontiguousarray(grad_out), full)
    grad_cm = gemm(flipped.reshape(1, flipped.shape[0], -1), cols)
    workspace.give(cols)
    n, (h, w) = grad_out.shape[0], geo.in_hw
    grad_x = to_nchw(grad_cm.reshape(-1, n, h, full.row), w)
    workspace.give(grad_cm)
    return grad_x


def _conv_per_sample(x, weight, bias, geo) -> np.ndarray:
    """Forward without saving anything (inference): per-sample columns and one batched
    product that comes out NCHW, with no transposing copy (see ``im2col_per_sample``); the
    bias rides in the product as an extra column of W against a row of ones."""
    cols = im2col_per_sample(x, geo, ones_row=bias is not None)
    w2 = weight.reshape(weight.shape[0], -1)
    if bias is not None:
        w2 = np.concatenate([w2, bias.reshape(-1, 1).astype(w2.dtype, copy=False)], axis=1)
    y = np.matmul(w2, cols)  # (N, O, Ho*Wo)
    workspace.give(cols)
    return y.reshape(*y.shape[:2], *geo.out_hw)


class Conv1d(Conv2d):
    """1-D convolution, as ``torch.nn.functional.conv1d``: Conv2d on a unit-height image.

    Inputs x (N, C_in, L), weight (C_out, C_in/groups, K), bias (C_out,) or None; padding
    an int, 'valid', 'same' or ((left, right),).
    """

    name = "conv1d"
    spatial = 1


class ConvTranspose2d(Function):
    """Transposed 2-D convolution, as ``torch.nn.functional.conv_transpose2d``: the adjoint
    (input gradient) of the conv2d that maps its output back to its input.

    Inputs x (N, C_in, H, W), weight (C_in, C_out/groups, kH, kW), bias (C_out,) or None.
    Params: stride, dilation, output_padding (int or pair), padding (int, pair or
    ((top, bottom), (left, right))), groups. Output (N, C_out, H', W') with
    H' = (H - 1)*stride - top - bottom + dilation*(kH - 1) + output_padding + 1, likewise W'.
    """

    name = "conv_transpose2d"

    def forward(
        self, x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1
    ):
        op = self.name
        check_shapes(op, 2, x.shape, weight.shape, bias_shape(bias), groups, True)
        self.geo = geo = transpose_geometry(
            x.shape, weight.shape, stride, padding, output_padding, dilation, groups
        )
        if x.shape[0] == 0:
            return _empty_batch(self, x, weight, bias, (0, weight.shape[1] * groups, *geo.in_hw))
        self.xm = channel_major(x, geo)  # (g, C_in/g, N*H*row)
        self.wg = _grouped(weight, geo.groups)
        self.x_meta, self.w_meta = (x.shape, x.dtype), (weight.shape, weight.dtype)
        cols = gemm(self.wg.transpose(0, 2, 1), self.xm)
        y = col2im(cols, geo, x.shape[0], bias)
        workspace.give(cols)
        return y

    def backward(self, grad_out):
        if "empty_metas" in self.__dict__:
            return _empty_batch_grads(self)
        geo, needs = self.geo, self.needs_input_grad
        grad_x = grad_w = grad_b = None
        if needs[0] or needs[1]:
            grad_cols = im2col(grad_out, geo)  # (g, C_out/g*kH*kW, N*H*row)
            if needs[0]:
                n, _, h, w = self.x_meta[0]
                grad_xm = gemm(self.wg, grad_cols)
                grad_x = to_nchw(grad_xm.reshape(-1, n, h, geo.row), w)
                workspace.give(grad_xm)
            if needs[1]:
                grad_w = gemm_t(grad_cols, self.xm).reshape(self.w_meta[0])
            workspace.give(grad_cols)
        if len(needs) > 2 and needs[2]:
            grad_b = channel_sums(grad_out.reshape(*grad_out.shape[:2], -1))
        return _cast(grad_x, self.x_meta), _cast(grad_w, self.w_meta), grad_b

    def release(self) -> None:
        if "xm" in self.__dict__:
            workspace.give(self.xm)
        super().release()
