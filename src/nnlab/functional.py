"""The lowercase functional API (``import nnlab.functional as F``): thin wrappers over ops.

Every function takes Tensors (or arrays/numbers, treated as constants) and returns Tensors.
Axis arguments are called ``axis`` as in NumPy; signatures otherwise follow
``torch.nn.functional``.
"""

import numpy as np

from nnlab import backend
from nnlab.autograd.tensor import Tensor, apply
from nnlab.ops import activation as act
from nnlab.ops import attention as at
from nnlab.ops import conv as cv
from nnlab.ops import cross_entropy as ce
from nnlab.ops import dropout as drop
from nnlab.ops import elementwise as ew
from nnlab.ops import embedding as emb
from nnlab.ops import loss as lo
from nnlab.ops import matmul as mm
from nnlab.ops import norm as nm
from nnlab.ops import pool as pl
from nnlab.ops import reduce as rd
from nnlab.ops import resample as rs
from nnlab.ops import shape as sh

# ---- elementwise ----------------------------------------------------------------------------


def add(a, b):
    return apply(ew.Add, a, b)


def sub(a, b):
    return apply(ew.Sub, a, b)


def mul(a, b):
    return apply(ew.Mul, a, b)


def div(a, b):
    return apply(ew.Div, a, b)


def pow(a, b):  # noqa: A001 - the math name users expect
    return apply(ew.Pow, a, b)


def neg(a):
    return apply(ew.Neg, a)


def exp(a):
    return apply(ew.Exp, a)


def log(a):
    return apply(ew.Log, a)


def sqrt(a):
    return apply(ew.Sqrt, a)


def abs(a):  # noqa: A001
    return apply(ew.Abs, a)


def maximum(a, b):
    return apply(ew.Maximum, a, b)


def minimum(a, b):
    return apply(ew.Minimum, a, b)


def where(condition, a, b):
    """Elementwise ``a`` where ``condition`` holds, else ``b``; the condition gets no gradient."""
    condition = condition.data if isinstance(condition, Tensor) else condition
    return apply(ew.Where, condition, a, b)


def clip(a, min=None, max=None):  # noqa: A002
    return apply(ew.Clip, a, low=min, high=max)


# ---- reductions -----------------------------------------------------------------------------


def sum(a, axis=None, keepdims=False):  # noqa: A001
    return apply(rd.Sum, a, axis=axis, keepdims=keepdims)


def mean(a, axis=None, keepdims=False):
    return apply(rd.Mean, a, axis=axis, keepdims=keepdims)


def max(a, axis=None, keepdims=False):  # noqa: A001
    return apply(rd.Max, a, axis=axis, keepdims=keepdims)


def min(a, axis=None, keepdims=False):  # noqa: A001
    return apply(rd.Min, a, axis=axis, keepdims=keepdims)


def var(a, axis=None, keepdims=False, correction=1):
    return apply(rd.Var, a, axis=axis, keepdims=keepdims, correction=correction)


def std(a, axis=None, keepdims=False, correction=1):
    return apply(rd.Std, a, axis=axis, keepdims=keepdims, correction=correction)


def logsumexp(a, axis=None, keepdims=False):
    return apply(rd.LogSumExp, a, axis=axis, keepdims=keepdims)


# ---- shape ----------------------------------------------------------------------------------


def reshape(a, shape):
    return apply(sh.Reshape, a, shape=tuple(shape))


def transpose(a, axes=None):
    return apply(sh.Transpose, a, axes=None if axes is None else tuple(axes))


permute = transpose


def squeeze(a, axis=None):
    return apply(sh.Squeeze, a, axis=axis)


def unsqueeze(a, axis):
    return apply(sh.Unsqueeze, a, axis=axis)


def flatten(a, start_axis=0, end_axis=-1):
    return apply(sh.Flatten, a, start_axis=start_axis, end_axis=end_axis)


def broadcast_to(a, shape):
    return apply(sh.BroadcastTo, a, shape=tuple(shape))


def concat(tensors, axis=0, *, dim=None):
    """Join tensors along ``axis`` (``dim``: PyTorch's name for it, as ``torch.cat``)."""
    return apply(sh.Concat, *tensors, axis=_axis(axis, dim, 0, "concat"))


cat = concat


def stack(tensors, axis=0, *, dim=None):
    """Stack tensors along a new ``axis`` (or ``dim``, PyTorch's name)."""
    return apply(sh.Stack, *tensors, axis=_axis(axis, dim, 0, "stack"))


def unbind(a, axis=0, *, dim=None):
    """The slices of ``a`` along ``axis`` (or ``dim``) as a tuple of tensors (``torch.unbind``)."""
    return apply(sh.Unbind, a, axis=_axis(axis, dim, 0, "unbind"))


def pad(a, pad_width, value=0.0):
    """Constant padding with ``pad_width`` as in ``numpy.pad`` (per-axis (before, after))."""
    return apply(sh.Pad, a, pad_width=pad_width, value=value)


# ---- linear algebra -------------------------------------------------------------------------


def matmul(a, b):
    return apply(mm.MatMul, a, b)


def linear(input, weight, bias=None):  # noqa: A002
    """``input @ weight.T + bias`` in one fused op. Shape: (*, in) x (out, in) -> (*, out)."""
    return apply(mm.Linear, input, weight, bias)


# ---- activations ----------------------------------------------------------------------------


def sigmoid(x):
    return apply(act.Sigmoid, x)


def tanh(x):
    return apply(act.Tanh, x)


def relu(x):
    return apply(act.ReLU, x)


def leaky_relu(x, negative_slope=0.01):
    return apply(act.LeakyReLU, x, negative_slope=negative_slope)


def elu(x, alpha=1.0):
    return apply(act.ELU, x, alpha=alpha)


def selu(x):
    return apply(act.SELU, x)


def gelu(x, approximate="none"):
    return apply(act.GELU, x, approximate=approximate)


def softplus(x, beta=1.0, threshold=20.0):
    return apply(act.Softplus, x, beta=beta, threshold=threshold)


def silu(x):
    return apply(act.SiLU, x)


swish = silu


def softmax(x, axis=-1, *, dim=None):
    """exp(x) / sum(exp(x)) along ``axis`` (or ``dim``, PyTorch's name: ``F.softmax(x, dim=1)``)."""
    return apply(act.Softmax, x, axis=_axis(axis, dim, -1, "softmax"))


def log_softmax(x, axis=-1, *, dim=None):
    """log(softmax(x)) along ``axis`` (or ``dim``), computed stably."""
    return apply(act.LogSoftmax, x, axis=_axis(axis, dim, -1, "log_softmax"))


def scaled_dot_product_attention(
    query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None, rng=None
):
    """softmax(query key^T * scale + mask) value, returning ``(output, weights)``.

    Args:
        attn_mask: as PyTorch's ``scaled_dot_product_attention``: boolean (True = may
            attend) or float (added to the scores; -inf blocks), broadcastable to (..., L, S).
        dropout_p: dropout on the weights (pass 0 in evaluation).
        is_causal: also block every key after the query's position (top-left aligned).
        scale: default 1/sqrt(E).
        rng: Generator for the dropout mask (default: the library's).

    Shape:
        query (..., L, E), key (..., S, E), value (..., S, Ev) -> output (..., L, Ev),
        weights (..., L, S). A query row with every key blocked gets zero weights and a zero
        output (PyTorch gives NaN).
    """
    dtype = np.asarray(query.data if isinstance(query, Tensor) else query).dtype
    length, source_length = np.shape(query)[-2], np.shape(key)[-2]
    mask = at.additive_mask(attn_mask, dtype, true_blocks=False)
    if is_causal:
        causal = at.causal_mask(length, source_length, dtype)
        mask = causal if mask is None else mask + causal
    if scale is None:
        scale = 1.0 / np.sqrt(np.shape(query)[-1])
    rng = backend.get_generator(rng) if dropout_p > 0.0 else None
    return apply(
        at.ScaledDotProductAttention,
        query,
        key,
        value,
        mask=mask,
        scale=float(scale),
        dropout_p=float(dropout_p),
        rng=rng,
    )


# ---- regularization and normalization -------------------------------------------------------


def dropout(x, p=0.5, training=True, rng=None):
    """Inverted dropout: zero each element with probability ``p``, scale the rest by 1/(1-p).

    Args:
        rng: the ``numpy.random.Generator`` to draw the mask from (default: the library's).
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return x
    return apply(drop.Dropout, x, p=p, rng=backend.get_generator(rng))


def batch_norm(
    input,  # noqa: A002
    running_mean,
    running_var,
    weight=None,
    bias=None,
    training=False,
    momentum=0.1,
    eps=1e-5,
    *,
    allow_single_value=False,
):
    """Batch normalization over every axis but axis 1 (channels), as ``torch.nn.functional``.

    In training, batch statistics normalise and the running arrays (NumPy, updated in place)
    move toward them: running = (1 - momentum) * running + momentum * batch (PyTorch's rule).
    A channel with a single value (a batch of one (N, C) sample) raises, as in PyTorch, unless
    ``allow_single_value``: then, as Keras, its variance is 0, the output is the bias and the
    running variance moves toward 0.
    """
    return apply(
        nm.BatchNorm,
        input,
        weight,
        bias,
        running_mean=running_mean,
        running_var=running_var,
        training=training,
        momentum=momentum,
        eps=eps,
        allow_single_value=allow_single_value,
    )


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):  # noqa: A002
    """Normalise over the trailing ``normalized_shape`` axes, then scale and shift."""
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    return apply(
        nm.LayerNorm, input, weight, bias, normalized_shape=tuple(normalized_shape), eps=eps
    )


def embedding(indices, weight, padding_idx=None):
    """Rows of ``weight`` picked by integer ``indices``; the padding row gets no gradient."""
    indices = indices.data if isinstance(indices, Tensor) else np.asarray(indices)
    return apply(emb.Embedding, indices, weight, padding_idx=padding_idx)


# ---- convolution and pooling (NCHW / NCL, as PyTorch) --------------------------------------


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):  # noqa: A002
    """1-D convolution (cross-correlation) via im2col and one GEMM.

    Shape: input (N, C_in, L), weight (C_out, C_in / groups, K) -> (N, C_out, L_out).
    ``padding`` is an int, 'valid' or 'same'.
    """
    return apply(
        cv.Conv1d,
        input,
        weight,
        bias,
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=groups,
    )


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):  # noqa: A002
    """2-D convolution (cross-correlation) via im2col and one GEMM.

    Shape: input (N, C_in, H, W), weight (C_out, C_in / groups, kH, kW) -> (N, C_out, H', W').
    ``stride``, ``dilation``: int or pair; ``padding``: int, pair, 'valid' or 'same'.
    """
    return apply(
        cv.Conv2d,
        input,
        weight,
        bias,
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=groups,
    )


def conv_transpose2d(
    input,  # noqa: A002
    weight,
    bias=None,
    stride=1,
    padding=0,
    output_padding=0,
    groups=1,
    dilation=1,
):
    """Transposed 2-D convolution (the gradient of conv2d with respect to its input).

    Shape: input (N, C_in, H, W), weight (C_in, C_out / groups, kH, kW) -> (N, C_out, H', W').
    """
    return apply(
        cv.ConvTranspose2d,
        input,
        weight,
        bias,
        stride=stride,
        padding=padding,
        output_padding=output_padding,
        groups=groups,
        dilation=dilation,
    )


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):  # noqa: A002
    return apply(
        pl.MaxPool1d,
        input,
        kernel_size=kernel_size,
        stride=stride,
        padding=padding,
        dilation=dilation,
        ceil_mode=ceil_mode,
    )


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):  # noqa: A002
    """Max pooling over (kH, kW) windows; ``stride`` defaults to the kernel size; padding
    is -inf (never picked). The gradient goes to the first maximum of each window."""
    return apply(
        pl.MaxPool2d,
        input,
        kernel_size=kernel_size,
        stride=stride,
        padding=padding,
        dilation=dilation,
        ceil_mode=ceil_mode,
    )


def avg_pool2d(
    input,  # noqa: A002
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode=False,
    count_include_pad=True,
):
    return apply(
        pl.AvgPool2d,
        input,
        kernel_size=kernel_size,
        stride=stride,
        padding=padding,
        ceil_mode=ceil_mode,
        count_include_pad=count_include_pad,
    )


def adaptive_avg_pool2d(input, output_size):  # noqa: A002
    """Average pooling to a fixed (H_out, W_out), windows as PyTorch computes them."""
    return apply(pl.AdaptiveAvgPool2d, input, output_size=output_size)


def upsample(input, scale_factor=2, mode="nearest"):  # noqa: A002
    """Resize (N, C, H, W) by an integer ``scale_factor``: 'nearest' or 'bilinear'
    (align_corners=False, as PyTorch)."""
    return apply(rs.Upsample, input, scale_factor=scale_factor, mode=mode)


def dropout2d(x, p=0.5, training=True, rng=None):
    """Zero whole channels of (N, C, H, W) with probability ``p``, scale the rest by 1/(1-p)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return x
    return apply(drop.Dropout2d, x, p=p, rng=backend.get_generator(rng))


# ---- losses (PyTorch signatures; reduction is 'mean', 'sum' or 'none') ----------------------


def mse_loss(input, target, reduction="mean"):  # noqa: A002
    return apply(lo.MSELoss, input, target, reduction=reduction)


def l1_loss(input, target, reduction="mean"):  # noqa: A002
    return apply(lo.L1Loss, input, target, reduction=reduction)


def huber_loss(input, target, reduction="mean", delta=1.0):  # noqa: A002
    return apply(lo.HuberLoss, input, target, reduction=reduction, delta=delta)


def cross_entropy(
    input,  # noqa: A002
    target,
    weight=None,
    reduction="mean",
    label_smoothing=0.0,
    ignore_index=-100,
):
    """Softmax cross-entropy fused: logits (N, C) against class indices (N,) or probabilities
    (N, C). ``weight`` (C,) rescales classes; 'mean' divides by the summed target weights;
    targets equal to ``ignore_index`` add nothing (None ignores none)."""
    if not isinstance(target, Tensor):
        target = np.asarray(target)  # keep integer labels integer
    return apply(
        ce.CrossEntropy,
        input,
        target,
        weight,
        reduction=reduction,
        label_smoothing=label_smoothing,
        ignore_index=ignore_index,
    )


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):  # noqa: A002
    """Negative log-likelihood of class indices under log-probabilities ``input`` (N, C) or
    (N, C, d1, ...), as ``torch.nn.functional.nll_loss``: -weight[y] * input[n, y] per
    target; 'mean' divides by the summed weights of the targets not equal to
    ``ignore_index``. With ``log_softmax`` before it, this is ``cross_entropy``."""
    lo.check_reduction("nll_loss", reduction)
    x = input if isinstance(input, Tensor) else Tensor(input)
    target = np.asarray(target.data if isinstance(target, Tensor) else target)
    classes = x.shape[1] if x.ndim > 1 else x.shape[0]
    ce.check_target(x.data, target, ignore_index, op="nll_loss")
    if target.dtype.kind not in "iu":
        raise ValueError(f"nll_loss: targets must be class indices, got dtype {target.dtype}")
    rows = x.reshape(1, classes) if x.ndim == 1 else x
    if rows.ndim > 2:  # classes last, one row per prediction
        rows = rows.transpose(0, *range(2, rows.ndim), 1).reshape(-1, classes)
    flat = target.reshape(-1)
    valid = flat != ignore_index if ignore_index is not None else np.ones(flat.shape, bool)
    safe = np.where(valid, flat, 0)
    w = valid.astype(x.dtype) if weight is None else np.asarray(weight, x.dtype)[safe] * valid
    losses = -rows[np.arange(len(safe)), safe] * w
    if reduction == "none":
        return losses.reshape(target.shape)
    total = losses.sum()
    return total if reduction == "sum" else total / np.asarray(w.sum(), x.dtype)


def binary_cross_entropy(input, target, weight=None, reduction="mean"):  # noqa: A002
    """BCE on probabilities; each log is clamped at -100 as PyTorch does."""
    return apply(lo.BinaryCrossEntropy, input, target, weight, reduction=reduction)


def binary_cross_entropy_with_logits(
    input,  # noqa: A002
    target,
    weight=None,
    reduction="mean",
    pos_weight=None,
):
    """Sigmoid + BCE fused: max(x, 0) - x y + log(1 + exp(-|x|)), finite for any logit."""
    return apply(
        lo.BinaryCrossEntropyWithLogits, input, target, weight, pos_weight, reduction=reduction
    )


def kl_div(input, target, reduction="mean", log_target=False):  # noqa: A002
    """KL(target || exp(input)) with ``input`` log-probabilities, as ``torch`` ('batchmean' too)."""
    return apply(lo.KLDiv, input, target, reduction=reduction, log_target=log_target)


def _axis(axis, dim, default, op: str):
    """The axis given as NumPy's ``axis`` or as PyTorch's ``dim`` (not both)."""
    if dim is None:
        return axis
    if axis != default:
        raise TypeError(f"{op} got both axis={axis} and dim={dim}; pass one of them")
    return dim
