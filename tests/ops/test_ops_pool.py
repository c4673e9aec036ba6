"""Pooling, upsampling and channel-dropout ops: plain-loop NumPy references, float64 gradient
checks, PyTorch's tie-breaking and NaN rules, and the composed identities between ops."""

import math

import numpy as np
import pytest

import nnlab.functional as F
from nnlab import Tensor, gradcheck

from oracles import check_op

# ---- plain-loop references (one output element at a time, PyTorch's definitions) ----------


def _out_len(n, k, s, p, d, ceil_mode):
    span = d * (k - 1) + 1
    out = (math.ceil if ceil_mode else math.floor)((n + 2 * p - span) / s) + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def _pairs(*values):
    return [(v, v) if isinstance(v, int) else tuple(v) for v in values]


def max_pool_ref(x, k, s=None, p=0, d=1, ceil_mode=False):
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = _pairs(k, k if s is None else s, p, d)
    n, c, h, w = x.shape
    oh, ow = _out_len(h, kh, sh, ph, dh, ceil_mode), _out_len(w, kw, sw, pw, dw, ceil_mode)
    out = np.empty((n, c, oh, ow), x.dtype)
    for i in range(oh):
        for j in range(ow):
            rows = [i * sh - ph + a * dh for a in range(kh)]
            cols = [j * sw - pw + b * dw for b in range(kw)]
            rows = [r for r in rows if 0 <= r < h]
            cols = [q for q in cols if 0 <= q < w]
            out[:, :, i, j] = x[:, :, rows][:, :, :, cols].max(axis=(2, 3))
    return out


def avg_pool_ref(x, k, s=None, p=0, ceil_mode=False, count_include_pad=True):
    (kh, kw), (sh, sw), (ph, pw) = _pairs(k, k if s is None else s, p)
    n, c, h, w = x.shape
    oh, ow = _out_len(h, kh, sh, ph, 1, ceil_mode), _out_len(w, kw, sw, pw, 1, ceil_mode)
    out = np.empty((n, c, oh, ow), x.dtype)
    for i in range(oh):
        for j in range(ow):
            r0, q0 = i * sh - ph, j * sw - pw
            r1, q1 = min(r0 + kh, h + ph), min(q0 + kw, w + pw)
            size = (r1 - r0) * (q1 - q0)
            r0, q0, r1, q1 = max(r0, 0), max(q0, 0), min(r1, h), min(q1, w)
            total = x[:, :, r0:r1, q0:q1].sum(axis=(2, 3))
            out[:, :, i, j] = total / (size if count_include_pad else (r1 - r0) * (q1 - q0))
    return out


def adaptive_ref(x, out_size):
    h, w = x.shape[2:]
    oh, ow = [n if o is None else o for o, n in zip(_pairs(out_size)[0], (h, w), strict=True)]
    out = np.empty(x.shape[:2] + (oh, ow), x.dtype)
    for i in range(oh):
        r0, r1 = (i * h) // oh, math.ceil((i + 1) * h / oh)
        for j in range(ow):
            q0, q1 = (j * w) // ow, math.ceil((j + 1) * w / ow)
            out[:, :, i, j] = x[:, :, r0:r1, q0:q1].mean(axis=(2, 3))
    return out


def nearest_ref(x, sh, sw):
    h, w = x.shape[2:]
    out = np.empty(x.shape[:2] + (h * sh, w * sw), x.dtype)
    for i in range(h * sh):
        for j in range(w * sw):
            out[:, :, i, j] = x[:, :, i // sh, j // sw]
    return out


def bilinear_ref(x, sh, sw):
    h, w = x.shape[2:]

    def source(dst, scale, size):
        src = max((dst + 0.5) / scale - 0.5, 0.0)
        i0 = int(src)
        return i0, min(i0 + 1, size - 1), src - i0

    out = np.empty(x.shape[:2] + (h * sh, w * sw), x.dtype)
    for i in range(h * sh):
        r0, r1, a = source(i, sh, h)
        for j in range(w * sw):
            q0, q1, b = source(j, sw, w)
            top = (1 - b) * x[:, :, r0, q0] + b * x[:, :, r0, q1]
            bottom = (1 - b) * x[:, :, r1, q0] + b * x[:, :, r1, q1]
            out[:, :, i, j] = (1 - a) * top + a * bottom
    return out


# ---- max pooling --------------------------------------------------------------------------

MAX_CASES = [
    # (input shape, kernel, stride, padding, dilation, ceil_mode)
    ((2, 3, 6, 6), 2, None, 0, 1, False),
    ((2, 2, 7, 7), 3, 2, 0, 1, False),  # overlapping windows
    ((1, 2, 7, 8), 3, 2, 1, 1, False),  # overlapping + padding
    ((2, 2, 5, 5), 2, 2, 1, 1, True),  # ceil mode drops a window starting in the padding
    ((1, 3, 7, 6), 3, 2, 1, 1, True),
    ((1, 2, 9, 8), 3, 2, 1, 2, False),  # dilation
    ((1, 2, 8, 9), (2, 3), (1, 2), (1, 0), (2, 1), True),  # rectangular everything
]


@pytest.mark.parametrize("shape,k,s,p,d,ceil_mode", MAX_CASES)
def test_max_pool2d_matches_loop_reference_and_gradcheck(shape, k, s, p, d, ceil_mode):
    check_op(
        lambda x: F.max_pool2d(x, k, s, p, d, ceil_mode),
        lambda x: max_pool_ref(x, k, s, p, d, ceil_mode),
        [shape],
    )


def test_ceil_mode_last_window_must_start_inside_input_or_left_padding():
    # floor: (5 + 2 - 2) / 2 + 1 = 3; ceil would give 4, but window 4 starts at 6 >= 5 + 1.
    x = np.arange(25.0).reshape(1, 1, 5, 5)
    assert F.max_pool2d(Tensor(x), 2, 2, 1, ceil_mode=True).shape == (1, 1, 3, 3)
    # Without padding the extra ceil-mode window starts inside the input and is kept.
    y = F.max_pool2d(Tensor(x), 2, 2, 0, ceil_mode=True).data
    np.testing.assert_array_equal(y, [[[[6, 8, 9], [16, 18, 19], [21, 23, 24]]]])


def test_max_pool2d_gives_tied_gradient_to_first_maximum_in_window_order():
    x = Tensor(
        np.array([[[[1.0, 3.0, 3.0, 2.0], [3.0, 3.0, 2.0, 3.0]]]]),
        requires_grad=True,
    )
    y = F.max_pool2d(x, 2, 2)
    np.testing.assert_array_equal(y.data, [[[[3.0, 3.0]]]])
    y.backward(np.array([[[[10.0, 20.0]]]]))
    # window 1: ties at (0, 1), (1, 0), (1, 1) -> (0, 1); window 2: (0, 2), (1, 3) -> (0, 2)
    np.testing.assert_array_equal(x.grad, [[[[0, 10, 20, 0], [0, 0, 0, 0]]]])


def test_max_pool2d_overlapping_windows_accumulate_on_shared_maximum():
    x = np.zeros((1, 1, 3, 5))
    x[0, 0, 1, 2] = 5.0  # the maximum of both 3x3 windows (stride 2)
    t = Tensor(x, requires_grad=True)
    y = F.max_pool2d(t, 3, 2)
    y.backward(np.array([[[[1.5, 2.0]]]]))
    expected = np.zeros_like(x)
    expected[0, 0, 1, 2] = 3.5
    np.testing.assert_array_equal(t.grad, expected)


def test_max_pool2d_propagates_nan_and_routes_gradient_to_it():
    x = np.array([[[[1.0, np.nan], [7.0, 2.0]]]])
    t = Tensor(x, requires_grad=True)
    y = F.max_pool2d(t, 2)
    assert np.isnan(y.data).all()
    y.backward(np.ones((1, 1, 1, 1)))
    np.testing.assert_array_equal(t.grad, [[[[0, 1], [0, 0]]]])


def test_max_pool2d_nonfinite_incoming_gradient_stays_on_the_maximum():
    t = Tensor(np.array([[[[1.0, 4.0], [2.0, 3.0]]]]), requires_grad=True)
    F.max_pool2d(t, 2).backward(np.array([[[[np.inf]]]]))
    np.testing.assert_array_equal(t.grad, [[[[0, np.inf], [0, 0]]]])


def test_max_pool2d_keeps_float32_and_accepts_unbatched_input():
    x = np.random.default_rng(0).normal(size=(3, 6, 6)).astype(np.float32)
    y = F.max_pool2d(Tensor(x), 2)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y.data, max_pool_ref(x[None], 2)[0])


def test_max_pool1d_is_max_pool2d_over_a_unit_height():
    x = np.random.default_rng(1).normal(size=(2, 3, 11))
    for k, s, p, d, ceil_mode in [(3, 2, 1, 1, False), (2, None, 0, 1, True), (3, 1, 1, 2, True)]:
        y1 = F.max_pool1d(Tensor(x), k, s, p, d, ceil_mode).data
        s2 = None if s is None else (1, s)
        y2 = F.max_pool2d(Tensor(x[:, :, None]), (1, k), s2, (0, p), (1, d), ceil_mode).data
        np.testing.assert_array_equal(y1, y2[:, :, 0])
    check_op(
        lambda x: F.max_pool1d(x, 3, 2, 1),
        lambda x: max_pool_ref(x[:, :, None], (1, 3), (1, 2), (0, 1))[:, :, 0],
        [(2, 3, 9)],
    )


def test_max_pool_errors_name_the_problem():
    x = Tensor(np.zeros((1, 1, 4, 4)))
    with pytest.raises(ValueError, match="at most half of the kernel size"):
        F.max_pool2d(x, 2, padding=2)
    with pytest.raises(ValueError, match="too small"):
        F.max_pool2d(x, 5)
    with pytest.raises(ValueError, match=r"4-D \(N, C, H, W\).*got shape \(4, 4\)"):
        F.max_pool2d(Tensor(np.zeros((4, 4))), 2)
    with pytest.raises(ValueError, match="must be positive"):
        F.max_pool2d(x, 2, stride=0)
    with pytest.raises(ValueError, match=r"3-D \(N, C, L\)"):
        F.max_pool1d(x, 2)


# ---- average pooling ----------------------------------------------------------------------

AVG_CASES = [
    # (input shape, kernel, stride, padding, ceil_mode, count_include_pad)
    ((2, 3, 6, 6), 2, None, 0, False, True),
    ((2, 2, 7, 7), 3, 2, 0, False, True),
    ((1, 2, 7, 8), 3, 2, 1, False, True),
    ((1, 2, 7, 8), 3, 2, 1, False, False),
    ((2, 2, 5, 5), 2, 2, 1, True, True),
    ((1, 3, 6, 7), 3, 2, 1, True, False),
    ((1, 2, 8, 9), (2, 3), (1, 2), (1, 0), True, True),
    ((1, 2, 8, 9), (3, 2), (2, 3), (1, 1), True, False),
]


@pytest.mark.parametrize("shape,k,s,p,ceil_mode,count_include_pad", AVG_CASES)
def test_avg_pool2d_matches_loop_reference_and_gradcheck(
    shape, k, s, p, ceil_mode, count_include_pad
):
    check_op(
        lambda x: F.avg_pool2d(x, k, s, p, ceil_mode, count_include_pad),
        lambda x: avg_pool_ref(x, k, s, p, ceil_mode, count_include_pad),
        [shape],
    )


def test_avg_pool2d_non_overlapping_is_a_reshape_mean():
    x = np.random.default_rng(2).normal(size=(2, 3, 6, 8))
    expected = x.reshape(2, 3, 3, 2, 4, 2).mean(axis=(3, 5))
    np.testing.assert_allclose(F.avg_pool2d(Tensor(x), 2).data, expected, rtol=1e-12)


def test_avg_pool2d_asymmetric_padding_excluded_from_count():
    # The Keras 'same' case: one extra column on the right only, not counted.
    x = np.arange(6.0).reshape(1, 1, 2, 3)
    y = F.avg_pool2d(Tensor(x), 2, 2, ((0, 0), (0, 1)), count_include_pad=False).data
    np.testing.assert_allclose(y, [[[[(0 + 1 + 3 + 4) / 4, (2 + 5) / 2]]]])


# ---- adaptive average pooling -------------------------------------------------------------


@pytest.mark.parametrize(
    "shape,out_size",
    [
        ((2, 3, 5, 5), 3),
        ((1, 2, 7, 7), 2),
        ((2, 2, 8, 8), 4),
        ((1, 2, 6, 7), (None, 3)),
        ((1, 2, 7, 5), (3, None)),
        ((1, 2, 3, 4), (5, 7)),  # more outputs than inputs: overlapping windows
        ((1, 1, 9, 6), (4, 1)),
        ((2, 2, 4, 6), 1),
    ],
)
def test_adaptive_avg_pool2d_matches_loop_reference_and_gradcheck(shape, out_size):
    check_op(
        lambda x: F.adaptive_avg_pool2d(x, out_size),
        lambda x: adaptive_ref(x, out_size),
        [shape],
    )


def test_adaptive_avg_pool2d_to_one_is_global_mean():
    x = np.random.default_rng(3).normal(size=(2, 3, 5, 7)).astype(np.float32)
    y = F.adaptive_avg_pool2d(Tensor(x), 1)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.data, x.mean(axis=(2, 3), keepdims=True), rtol=1e-6)


def test_adaptive_avg_pool2d_keeps_infinities_local():
    x = np.zeros((1, 1, 5, 5))
    x[0, 0, 0, 0] = np.inf
    y = F.adaptive_avg_pool2d(Tensor(x), 3).data
    assert y[0, 0, 0, 0] == np.inf
    assert np.isfinite(y.ravel()[1:]).all()


# ---- upsampling ---------------------------------------------------------------------------


@pytest.mark.parametrize("scale", [2, 3, (2, 3), (1, 4)])
def test_upsample_nearest_matches_loop_reference_and_gradcheck(scale):
    sh, sw = _pairs(scale)[0]
    check_op(
        lambda x: F.upsample(x, scale, "nearest"), lambda x: nearest_ref(x, sh, sw), [(2, 2, 3, 4)]
    )


@pytest.mark.parametrize("scale", [2, 3, (2, 3), (4, 1)])
def test_upsample_bilinear_matches_loop_reference_and_gradcheck(scale):
    sh, sw = _pairs(scale)[0]
    check_op(
        lambda x: F.upsample(x, scale, "bilinear"),
        lambda x: bilinear_ref(x, sh, sw),
        [(2, 2, 3, 4)],
    )


def test_upsample_bilinear_of_a_constant_is_constant_and_nearest_sums_gradient():
    x = Tensor(np.full((1, 2, 3, 3), 2.5, np.float32), requires_grad=True)
    y = F.upsample(x, 3, "bilinear")
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.data, 2.5, rtol=1e-6)
    z = Tensor(np.ones((1, 1, 2, 2)), requires_grad=True)
    F.upsample(z, (2, 3), "nearest").backward(np.ones((1, 1, 4, 6)))
    np.testing.assert_array_equal(z.grad, np.full((1, 1, 2, 2), 6.0))


def test_upsample_rejects_fractional_factors_and_unknown_modes():
    x = Tensor(np.zeros((1, 1, 2, 2)))
    with pytest.raises(ValueError, match="integer scale factors"):
        F.upsample(x, 1.5)
    with pytest.raises(ValueError, match="'nearest' or 'bilinear'"):
        F.upsample(x, 2, "bicubic")


# ---- channel dropout ----------------------------------------------------------------------


def test_dropout2d_zeroes_whole_channels_and_scales_the_rest():
    x = np.random.default_rng(0).uniform(1, 2, size=(8, 16, 5, 4)).astype(np.float32)
    y = F.dropout2d(Tensor(x), 0.25, rng=np.random.default_rng(5))
    assert y.dtype == np.float32
    zeroed = (y.data == 0).reshape(8, 16, -1)
    # each (sample, channel) is dropped entirely or kept entirely, scaled by 1 / (1 - p)
    assert np.all(zeroed.all(axis=2) | ~zeroed.any(axis=2))
    assert 0 < zeroed.all(axis=2).sum() < 8 * 16
    kept = ~zeroed.reshape(y.shape)
    np.testing.assert_allclose(y.data[kept], x[kept] / 0.75, rtol=1e-6)


def test_dropout2d_same_seed_same_mask_and_sequence_input():
    x = Tensor(np.ones((4, 6, 3, 3)))
    a = F.dropout2d(x, 0.5, rng=np.random.default_rng(3)).data
    b = F.dropout2d(x, 0.5, rng=np.random.default_rng(3)).data
    c = F.dropout2d(x, 0.5, rng=np.random.default_rng(4)).data
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    seq = F.dropout2d(Tensor(np.ones((4, 6, 7))), 0.5, rng=np.random.default_rng(3)).data
    np.testing.assert_array_equal(seq, a[:, :, :1, 0].repeat(7, axis=2))


def test_dropout2d_preserves_the_expectation():
    x = np.ones((200, 500, 1, 2))
    y = F.dropout2d(Tensor(x), 0.3, rng=np.random.default_rng(1)).data
    assert abs(y.mean() - 1.0) < 0.01
    assert abs((y[..., 0] == 0).mean() - 0.3) < 0.005


def test_dropout2d_backward_uses_the_forward_mask_and_gradchecks():
    x = Tensor(np.random.default_rng(2).normal(size=(3, 4, 2, 2)), requires_grad=True)
    y = F.dropout2d(x, 0.5, rng=np.random.default_rng(6))
    y.backward(np.ones(y.shape))
    np.testing.assert_array_equal(x.grad, y.data / x.data)
    assert gradcheck(lambda x: F.dropout2d(x, 0.5, rng=np.random.default_rng(6)), [x])


def test_dropout2d_identity_in_eval_and_clear_errors():
    x = Tensor(np.ones((2, 3, 4, 4)))
    assert F.dropout2d(x, 0.5, training=False) is x
    np.testing.assert_array_equal(F.dropout2d(x, 1.0).data, 0)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\).*got shape \(2, 3\)"):
        F.dropout2d(Tensor(np.ones((2, 3))), 0.5)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        F.dropout2d(x, -0.1)
