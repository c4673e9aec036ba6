"""Convolution ops three ways: forward against plain-NumPy loops, float64 gradient checks of
input, weight and bias, and the fused im2col op against compositions of primitives; plus the
error messages."""

import numpy as np
import pytest

import nnlab.functional as F
from nnlab import Tensor, gradcheck
from nnlab.ops import conv as conv_ops
from nnlab.ops import conv_args, im2col

from oracles import check_op, random_inputs

# ---- plain-NumPy references (loops over every output element; small inputs only) ----------


def _pairs(padding, kernel, dilation, n):
    if padding == "valid":
        return [(0, 0)] * n
    if padding == "same":
        totals = [d * (k - 1) for k, d in zip(kernel, dilation, strict=True)]
        return [(t // 2, t - t // 2) for t in totals]
    if isinstance(padding, int):
        return [(padding, padding)] * n
    return [p if isinstance(p, tuple) else (p, p) for p in padding]


def conv2d_reference(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    dh, dw = (dilation, dilation) if isinstance(dilation, int) else dilation
    kh, kw = w.shape[2:]
    (top, bottom), (left, right) = _pairs(padding, (kh, kw), (dh, dw), 2)
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    n, c = x.shape[:2]
    o, cg = w.shape[:2]
    og = o // groups
    ho = (xp.shape[2] - dh * (kh - 1) - 1) // sh + 1
    wo = (xp.shape[3] - dw * (kw - 1) - 1) // sw + 1
    y = np.zeros((n, o, ho, wo))
    for ni in range(n):
        for oi in range(o):
            g = oi // og
            for hi in range(ho):
                for wi in range(wo):
                    patch = xp[
                        ni,
                        g * cg : (g + 1) * cg,
                        hi * sh : hi * sh + dh * (kh - 1) + 1 : dh,
                        wi * sw : wi * sw + dw * (kw - 1) + 1 : dw,
                    ]
                    y[ni, oi, hi, wi] = np.sum(patch * w[oi]) + (0.0 if b is None else b[oi])
    return y


def conv1d_reference(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    if isinstance(padding, int):
        padding = [(0, 0), (padding, padding)]
    elif isinstance(padding, tuple):
        padding = [(0, 0), padding[0]]
    elif padding == "same":
        total = dilation * (w.shape[2] - 1)
        padding = [(0, 0), (total // 2, total - total // 2)]
    y = conv2d_reference(
        x[:, :, None], w[:, :, None], b, (1, stride), padding, (1, dilation), groups
    )
    return y[:, :, 0]


def conv_transpose2d_reference(
    x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1
):
    """Scatter every input pixel times the kernel into the full output, then crop."""
    s = (stride, stride) if isinstance(stride, int) else stride
    d = (dilation, dilation) if isinstance(dilation, int) else dilation
    e = (output_padding, output_padding) if isinstance(output_padding, int) else output_padding
    kh, kw = w.shape[2:]
    pads = _pairs(padding, (kh, kw), d, 2)
    n, c, h, wd = x.shape
    cg, og = c // groups, w.shape[1]
    full = np.zeros(
        (n, og * groups, (h - 1) * s[0] + d[0] * (kh - 1) + 1 + e[0],
         (wd - 1) * s[1] + d[1] * (kw - 1) + 1 + e[1])
    )  # fmt: skip
    for ni in range(n):
        for ci in range(c):
            g = ci // cg
            for hi in range(h):
                for wi in range(wd):
                    for i in range(kh):
                        for j in range(kw):
                            full[
                                ni,
                                g * og : (g + 1) * og,
                                hi * s[0] + i * d[0],
                                wi * s[1] + j * d[1],
                            ] += x[ni, ci, hi, wi] * w[ci, :, i, j]
    (top, bottom), (left, right) = pads
    out = full[:, :, top : full.shape[2] - bottom, left : full.shape[3] - right]
    return out if b is None else out + b[None, :, None, None]


# ---- forward + gradient checks ----------------------------------------------------------------

CONV2D_CASES = [
    # x shape, weight shape, params
    ((2, 3, 5, 6), (4, 3, 3, 3), {}),
    ((2, 3, 7, 6), (4, 3, 3, 2), {"stride": 2, "padding": 1}),
    ((1, 2, 6, 6), (3, 2, 3, 3), {"padding": "same"}),
    ((1, 2, 5, 6), (2, 2, 2, 4), {"padding": "same"}),  # even kernels: extra bottom/right
    ((1, 2, 7, 7), (2, 2, 3, 3), {"dilation": 2, "padding": "same"}),
    ((2, 4, 5, 5), (6, 2, 3, 3), {"groups": 2, "padding": 1}),
    ((2, 3, 5, 5), (6, 1, 3, 3), {"groups": 3, "padding": "same"}),  # depthwise, multiplier 2
    ((1, 2, 6, 5), (3, 2, 3, 2), {"stride": (2, 1), "dilation": (1, 2), "padding": (1, 0)}),
    ((1, 2, 5, 5), (2, 2, 3, 3), {"padding": ((0, 1), (2, 0)), "stride": 2}),
    ((1, 2, 12, 12), (3, 2, 3, 3), {"padding": "valid"}),  # stride 1: whole-row columns
    ((2, 3, 4, 4), (5, 3, 1, 1), {}),
]


@pytest.mark.parametrize("x_shape,w_shape,params", CONV2D_CASES)
def test_conv2d_forward_and_gradients(x_shape, w_shape, params):
    shapes = [x_shape, w_shape, (w_shape[0],)]
    check_op(
        lambda x, w, b: F.conv2d(x, w, b, **params),
        lambda x, w, b: conv2d_reference(x, w, b, **params),
        shapes,
        atol=1e-4,
    )


@pytest.mark.parametrize("x_shape,w_shape,params", CONV2D_CASES)
@pytest.mark.parametrize("bias", [True, False])
def test_inference_path_equals_the_training_path(x_shape, w_shape, params, bias):
    # Without a gradient to record, conv2d uses per-sample columns with the bias folded into
    # the product; with one, channel-major columns saved for backward. Same numbers.
    x, w, b = random_inputs([x_shape, w_shape, (w_shape[0],)], seed=3)
    b = b if bias else None
    inference = F.conv2d(x, w, b, **params).data
    training = F.conv2d(Tensor(x, requires_grad=True), w, b, **params).data
    np.testing.assert_allclose(inference, training, rtol=1e-12, atol=1e-12)


def test_conv2d_without_bias():
    check_op(
        lambda x, w: F.conv2d(x, w, stride=2, padding=1),
        lambda x, w: conv2d_reference(x, w, stride=2, padding=1),
        [(2, 2, 5, 5), (3, 2, 3, 3)],
        atol=1e-4,
    )


CONV1D_CASES = [
    ((2, 3, 9), (4, 3, 3), {}),
    ((2, 3, 9), (4, 3, 4), {"padding": "same"}),
    ((2, 4, 10), (4, 2, 3), {"stride": 3, "padding": 2, "groups": 2}),
    ((1, 2, 11), (4, 1, 3), {"dilation": 2, "groups": 2, "padding": "same"}),
    ((1, 2, 8), (3, 2, 3), {"padding": ((2, 0),)}),  # causal
]


@pytest.mark.parametrize("x_shape,w_shape,params", CONV1D_CASES)
def test_conv1d_forward_and_gradients(x_shape, w_shape, params):
    check_op(
        lambda x, w, b: F.conv1d(x, w, b, **params),
        lambda x, w, b: conv1d_reference(x, w, b, **params),
        [x_shape, w_shape, (w_shape[0],)],
        atol=1e-4,
    )


TRANSPOSE_CASES = [
    ((2, 3, 3, 4), (3, 2, 3, 3), {}),
    ((1, 4, 3, 3), (4, 3, 3, 3), {"stride": 2, "padding": 1, "output_padding": 1}),
    ((1, 4, 3, 2), (4, 1, 3, 2), {"stride": (2, 3), "groups": 2}),
    ((1, 2, 3, 3), (2, 2, 2, 3), {"dilation": 2, "padding": (1, 2)}),
    ((1, 2, 2, 3), (2, 3, 3, 3), {"stride": 2, "dilation": 3, "output_padding": 2}),
    ((1, 2, 3, 3), (2, 2, 3, 3), {"padding": ((0, 1), (1, 0)), "stride": 2}),
]


@pytest.mark.parametrize("x_shape,w_shape,params", TRANSPOSE_CASES)
def test_conv_transpose2d_forward_and_gradients(x_shape, w_shape, params):
    groups = params.get("groups", 1)
    check_op(
        lambda x, w, b: F.conv_transpose2d(x, w, b, **params),
        lambda x, w, b: conv_transpose2d_reference(x, w, b, **params),
        [x_shape, w_shape, (w_shape[1] * groups,)],
        atol=1e-4,
    )


def test_large_inputs_gradcheck_along_random_directions():
    x, w, b = (
        Tensor(a, requires_grad=True) for a in random_inputs([(3, 4, 9, 8), (6, 2, 3, 3), (6,)])
    )
    assert gradcheck(lambda x, w, b: F.conv2d(x, w, b, padding="same", groups=2), [x, w, b])
    v, u = (Tensor(a, requires_grad=True) for a in random_inputs([(2, 6, 4, 5), (6, 2, 3, 3)], 1))
    assert gradcheck(lambda v, u: F.conv_transpose2d(v, u, stride=2, groups=3), [v, u])


# ---- fused op against compositions ------------------------------------------------------------


def composed_conv2d(x, w, b, stride, padding, dilation):
    """conv2d from pad, strided slicing, stack, reshape and matmul (all differentiable)."""
    (kh, kw), o = w.shape[2:], w.shape[0]
    x = F.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    ho = (x.shape[2] - dilation * (kh - 1) - 1) // stride + 1
    wo = (x.shape[3] - dilation * (kw - 1) - 1) // stride + 1
    patches = [
        x[:, :, i * dilation :: stride, j * dilation :: stride][:, :, :ho, :wo]
        for i in range(kh)
        for j in range(kw)
    ]
    cols = F.stack(patches, axis=2)  # (N, C, kh*kw, Ho, Wo)
    n, c = cols.shape[:2]
    cols = cols.transpose(0, 3, 4, 1, 2).reshape(n * ho * wo, c * kh * kw)
    y = cols @ w.reshape(o, -1).transpose() + b
    return y.reshape(n, ho, wo, o).transpose(0, 3, 1, 2)


@pytest.mark.parametrize("stride,padding,dilation", [(1, 1, 1), (2, 0, 1), (1, 2, 2), (3, 1, 1)])
def test_fused_conv2d_equals_composition(stride, padding, dilation):
    arrays = random_inputs([(2, 3, 9, 8), (4, 3, 3, 3), (4,)], seed=3)
    results = []
    for fn in (
        lambda x, w, b: F.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation),
        lambda x, w, b: composed_conv2d(x, w, b, stride, padding, dilation),
    ):
        tensors = [Tensor(a, requires_grad=True) for a in arrays]
        y = fn(*tensors)
        y.backward(np.random.default_rng(4).standard_normal(y.shape))
        results.append([y.data] + [t.grad for t in tensors])
    for ours, composed in zip(*results, strict=True):
        np.testing.assert_allclose(ours, composed, rtol=1e-10, atol=1e-10)


def test_whole_row_columns_equal_the_general_layout(monkeypatch):
    """Stride-1 convolutions read whole padded rows (extra columns); the plain Wo-wide
    layout must give the same values and gradients, for conv2d and conv_transpose2d."""
    arrays = random_inputs([(2, 4, 7, 9), (6, 2, 3, 2), (6,)], seed=5)
    calls = [
        lambda x, w, b: F.conv2d(x, w, b, padding=(1, 2), dilation=(2, 1), groups=2),
        lambda x, w, b: F.conv_transpose2d(x, w.reshape(4, 3, 3, 2), b[:3], padding=1),
    ]
    for call in calls:
        results = []
        for wide in (True, False):
            rule = property(lambda self, wide=wide: wide and self.stride == (1, 1))
            monkeypatch.setattr(im2col.Geometry, "wide", rule)
            tensors = [Tensor(a, requires_grad=True) for a in arrays]
            y = call(*tensors)
            y.backward(np.random.default_rng(6).standard_normal(y.shape))
            results.append([y.data] + [t.grad for t in tensors])
        monkeypatch.undo()
        for a, b in zip(*results, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "x_shape,w_shape,params",
    [
        ((2, 4, 9, 8), (3, 4, 3, 3), {}),
        ((2, 3, 7, 9), (3, 3, 2, 4), {"padding": "same"}),  # uneven: extra bottom/right
        ((1, 4, 9, 9), (2, 4, 3, 3), {"padding": ((2, 0), (1, 2)), "dilation": (2, 1)}),
        ((2, 5, 4, 4), (5, 5, 3, 3), {"padding": 1}),  # short rows: whole-row columns
        ((2, 3, 6, 6), (2, 3, 1, 1), {}),
    ],
)
def test_input_gradient_as_full_convolution_equals_col2im(monkeypatch, x_shape, w_shape, params):
    """Stride-1 convolutions with no more output than input channels take dx from a full
    convolution of the output gradient; forcing col2im must give the same gradients."""
    arrays = random_inputs([x_shape, w_shape, (w_shape[0],)], seed=7)
    padding, dilation = params.get("padding", 0), params.get("dilation", 1)
    geo = conv_args.conv_geometry("conv2d", 2, x_shape, w_shape, 1, padding, dilation, 1)
    assert conv_ops._full_conv_pays(geo, w_shape[0], x_shape[1])  # the case takes the path
    results = []
    for full in (True, False):
        monkeypatch.setattr(conv_ops, "_full_conv_pays", lambda *args, full=full: full)
        tensors = [Tensor(a, requires_grad=True) for a in arrays]
        y = F.conv2d(*tensors, **params)
        y.backward(np.random.default_rng(8).standard_normal(y.shape))
        results.append([t.grad for t in tensors])
    for a, b in zip(*results, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "params",
    [
        {"stride": 2, "padding": 1, "output_padding": 1},
        {"stride": 3, "groups": 2, "dilation": 2},
        {"padding": ((1, 0), (0, 2)), "stride": 2},
    ],
)
def test_conv_transpose2d_is_the_adjoint_of_conv2d(params):
    """<conv_transpose2d(y, W), x> = <y, conv2d(x, W)> for the conv2d it transposes."""
    rng = np.random.default_rng(7)
    w = rng.standard_normal((4, 3, 3, 2))
    y = rng.standard_normal((2, 4, 3, 4))
    out = F.conv_transpose2d(y, w, **params).data
    x = rng.standard_normal(out.shape)
    conv_params = {k: v for k, v in params.items() if k != "output_padding"}
    forward = F.conv2d(x, w, **conv_params).data
    assert forward.shape == y.shape
    np.testing.assert_allclose(np.sum(out * x), np.sum(y * forward), rtol=1e-12)


# ---- dtype, skipped gradients, repeated backward ----------------------------------------------


def test_float32_is_kept_through_forward_and_backward():
    x, w, b = (Tensor(a.astype(np.float32), requires_grad=True)
               for a in random_inputs([(2, 3, 6, 6), (4, 3, 3, 3), (4,)]))  # fmt: skip
    y = F.conv2d(x, w, b, padding="same")
    z = F.conv_transpose2d(y, w, stride=2)
    z.backward(np.ones(z.shape, np.float32))
    assert y.dtype == z.dtype == np.float32
    assert x.grad.dtype == w.grad.dtype == b.grad.dtype == np.float32


def test_only_the_needed_gradients_are_computed():
    x, w = random_inputs([(2, 3, 6, 6), (4, 3, 3, 3)])
    weight = Tensor(w, requires_grad=True)
    data = Tensor(x)
    F.conv2d(data, weight).sum().backward()
    assert data.grad is None
    expected = np.einsum("nchwij->cij", np.lib.stride_tricks.sliding_window_view(x, (3, 3), (2, 3)))
    np.testing.assert_allclose(weight.grad, np.broadcast_to(expected, w.shape), rtol=1e-12)


def test_backward_twice_with_retained_graph_gives_the_same_gradients():
    arrays = random_inputs([(2, 3, 6, 6), (4, 3, 3, 3), (4,)])
    x, w, b = (Tensor(a, requires_grad=True) for a in arrays)
    y = F.conv2d(x, w, b, padding=1)
    y.backward(np.ones(y.shape), retain_graph=True)
    first = [t.grad.copy() for t in (x, w, b)]
    y.backward(np.ones(y.shape))
    for t, g in zip((x, w, b), first, strict=True):
        np.testing.assert_allclose(t.grad, 2 * g, rtol=1e-12)


def _small_cnn_step(arrays, retain):
    x, w1, w2, wt, w3 = (Tensor(a, requires_grad=True) for a in arrays)
    h = F.relu(F.conv2d(x, w1, padding="same"))
    h = F.conv2d(h, w2, padding="same") + h  # same shapes twice: columns of equal size
    h = F.conv_transpose2d(h, wt, stride=2)
    y = F.conv1d(h.reshape(h.shape[0], h.shape[1], -1), w3, stride=2)
    grad = np.random.default_rng(0).standard_normal(y.shape)
    if retain:
        y.backward(grad, retain_graph=True)
    y.backward(grad)
    return [y.data.copy()] + [t.grad for t in (x, w1, w2, wt, w3)]


def test_reused_scratch_arrays_never_alias_live_ones(monkeypatch):
    """With every array pooled, repeated steps (and a retained graph) give the values of
    steps with no pooling at all."""
    arrays = random_inputs([(2, 3, 6, 6), (4, 3, 3, 3), (4, 4, 3, 3), (4, 2, 3, 3), (3, 2, 3)])
    monkeypatch.setattr(im2col.Workspace, "limit", 0)
    im2col.clear_workspace()
    expected = [_small_cnn_step(arrays, retain) for retain in (False, True)]
    monkeypatch.setattr(im2col.Workspace, "limit", 1 << 30)
    monkeypatch.setattr(im2col.Workspace, "smallest", 0)
    for _ in range(3):
        for retain, want in zip((False, True), expected, strict=True):
            for got, value in zip(_small_cnn_step(arrays, retain), want, strict=True):
                np.testing.assert_array_equal(got, value)
    assert im2col.workspace.nbytes > 0
    im2col.clear_workspace()
    assert im2col.workspace.nbytes == 0 and not im2col.workspace.free


# ---- errors --------------------------------------------------------------------------------------


def _error(call, *arrays, **params):
    with pytest.raises(ValueError) as info:
        call(*[np.zeros(s, np.float32) for s in arrays], **params)
    return str(info.value)


def test_channels_last_images_get_the_conversion_hint():
    message = _error(F.conv2d, (8, 32, 32, 3), (16, 3, 3, 3))
    assert message == (
        "conv2d expects input with 3 channels (weight shape (16, 3, 3, 3)), got input of shape "
        "(8, 32, 32, 3): images must be NCHW; convert NHWC with x.transpose(0, 3, 1, 2)"
    )
    message = _error(F.conv1d, (4, 50, 3), (8, 3, 5))
    assert "sequences must be (N, C, L); convert (N, L, C) with x.transpose(0, 2, 1)" in message


def test_channel_mismatch_without_a_channels_last_look():
    message = _error(F.conv2d, (8, 4, 32, 32), (16, 3, 3, 3))
    assert "expects input with 3 channels" in message and "axis 1 holds channels" in message


def test_rank_errors():
    assert "expects a 4-D input (N, C, H, W), got shape (3, 8, 8); add a batch axis" in _error(
        F.conv2d, (3, 8, 8), (4, 3, 3, 3)
    )
    assert "expects a 3-D input (N, C, L)" in _error(F.conv1d, (2, 3, 8, 8), (4, 3, 3))
    assert "4-D weight (out, in/groups, *kernel)" in _error(F.conv2d, (2, 3, 8, 8), (4, 3, 3))


def test_kernel_larger_than_the_padded_input():
    message = _error(F.conv2d, (1, 1, 4, 4), (1, 1, 3, 3), padding=0, dilation=2)
    assert (
        "kernel (3, 3) with dilation (2, 2) spans (5, 5), larger than the padded input (4, 4)"
        in message
    )


def test_groups_errors():
    assert "groups=3 must divide out_channels 4" in _error(
        F.conv2d, (1, 6, 5, 5), (4, 2, 3, 3), groups=3
    )
    assert "groups=2 does not divide the input's 3 channels" in _error(
        F.conv2d, (1, 3, 5, 5), (4, 2, 3, 3), groups=2
    )
    assert "groups=3 must divide in_channels 4" in _error(
        F.conv_transpose2d, (1, 4, 5, 5), (4, 2, 3, 3), groups=3
    )


def test_padding_and_stride_errors():
    assert "padding='same' needs stride 1" in _error(
        F.conv2d, (1, 1, 5, 5), (1, 1, 3, 3), stride=2, padding="same"
    )
    assert "padding must be an int, pairs, 'valid' or 'same'" in _error(
        F.conv2d, (1, 1, 5, 5), (1, 1, 3, 3), padding="full"
    )
    assert "stride must be >= 1" in _error(F.conv2d, (1, 1, 5, 5), (1, 1, 3, 3), stride=0)
    assert "output_padding (2, 2) must be smaller than stride (2, 2)" in _error(
        F.conv_transpose2d, (1, 1, 3, 3), (1, 1, 3, 3), stride=2, output_padding=2
    )
    assert "padding must be an int or pairs" in _error(
        F.conv_transpose2d, (1, 1, 3, 3), (1, 1, 3, 3), padding="same"
    )
    assert "bias must have shape (2,)" in _error(F.conv2d, (1, 1, 5, 5), (2, 1, 3, 3), (3,))
