import math
import warnings

import numpy as np
import pytest

from nnlab import optim
from nnlab.nn import Parameter


def params_with_grads(dtype=np.float64, scale=1.0, seed=0):
    rng = np.random.default_rng(seed)
    params = []
    for shape in [(3, 4), (5,), (2, 2, 2)]:
        p = Parameter(np.zeros(shape, dtype))
        p.grad = (rng.standard_normal(shape) * scale).astype(dtype)
        params.append(p)
    return params


def reference_norm(arrays, p):
    flat = np.concatenate([a.astype(np.float64).ravel() for a in arrays])
    return np.max(np.abs(flat)) if math.isinf(p) else np.sum(np.abs(flat) ** p) ** (1 / p)


@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_values(norm_type, max_norm):
    params = params_with_grads()
    before = [p.grad.copy() for p in params]
    expected_total = reference_norm(before, norm_type)
    total = optim.clip_grad_norm_(params, max_norm, norm_type)
    assert total == pytest.approx(expected_total, rel=1e-12)
    scale = min(max_norm / (expected_total + 1e-6), 1.0)
    for p, g in zip(params, before, strict=True):
        np.testing.assert_allclose(p.grad, g * scale, rtol=1e-12)
    if max_norm < expected_total:
        assert reference_norm([p.grad for p in params], norm_type) == pytest.approx(
            max_norm, rel=1e-5
        )


def test_clip_grad_norm_skips_missing_grads_and_accepts_one_tensor():
    params = params_with_grads()
    params[1].grad = None
    total = optim.clip_grad_norm_(params, 1.0)
    assert params[1].grad is None
    assert total == pytest.approx(
        reference_norm(
            [params[0].grad / (1.0 / (total + 1e-6)), params[2].grad / (1.0 / (total + 1e-6))], 2
        )
    )
    single = params_with_grads()[0]
    assert optim.clip_grad_norm_(single, 1e9) == pytest.approx(np.linalg.norm(single.grad))
    assert optim.clip_grad_norm_([], 1.0) == 0.0


def test_clip_grad_norm_float32_squares_do_not_overflow():
    p = Parameter(np.zeros(4, np.float32))
    p.grad = np.full(4, 1e20, np.float32)
    assert optim.clip_grad_norm_([p], 1.0) == pytest.approx(2e20, rel=1e-6)
    np.testing.assert_allclose(p.grad, 0.5, rtol=1e-5)


def test_clip_grad_norm_nonfinite():
    params = params_with_grads()
    params[0].grad[0, 0] = np.nan
    with pytest.raises(RuntimeError, match="total norm of order 2.0 of the gradients is nan"):
        optim.clip_grad_norm_(params, 1.0, error_if_nonfinite=True)
    total = optim.clip_grad_norm_(params, 1.0)  # PyTorch's default: scale by NaN anyway
    assert math.isnan(total) and np.isnan(params[1].grad).all()


def test_clip_grad_value():
    params = params_with_grads(scale=2.0)
    before = [p.grad.copy() for p in params]
    optim.clip_grad_value_(params, 0.7)
    for p, g in zip(params, before, strict=True):
        np.testing.assert_array_equal(p.grad, np.clip(g, -0.7, 0.7))


def test_clip_grad_norm_per_param():
    params = params_with_grads()
    before = [p.grad.copy() for p in params]
    norms = optim.clip_grad_norm_per_param_(params, 1.5)
    for p, g, norm in zip(params, before, norms, strict=True):
        assert norm == pytest.approx(np.linalg.norm(g))
        np.testing.assert_allclose(p.grad, g * 1.5 / max(norm, 1.5), rtol=1e-12)


def test_array_functions_return_new_arrays():
    arrays = [p.grad for p in params_with_grads(scale=3.0)]
    before = [a.copy() for a in arrays]
    clipped, total = optim.clip_by_global_norm(arrays, 1.0)
    assert total == pytest.approx(reference_norm(before, 2))
    assert optim.global_norm(clipped) == pytest.approx(1.0, rel=1e-5)
    by_norm = optim.clip_by_norm(arrays, 1.0)
    assert all(np.linalg.norm(a) == pytest.approx(1.0) for a in by_norm)
    by_value = optim.clip_by_value(arrays, 0.1)
    assert all(np.abs(a).max() <= 0.1 for a in by_value)
    for a, b in zip(arrays, before, strict=True):
        np.testing.assert_array_equal(a, b)
    small = [np.array([0.1, 0.2])]
    assert optim.clip_by_norm(small, 1.0)[0] is small[0]  # within the norm: no copy
    assert optim.clip_by_global_norm(small, 1.0)[0][0] is small[0]


# ---- the optimizer options ------------------------------------------------------------------
def sgd_step(**options):
    """One SGD(lr=1) step from zero weights: the weights become minus the clipped gradient."""
    params = params_with_grads(scale=2.0)
    grads = [p.grad.copy() for p in params]
    opt = optim.SGD(params, lr=1.0, **options)
    opt.step()
    for p, g in zip(params, grads, strict=True):
        np.testing.assert_array_equal(p.grad, g)  # step() never changes .grad
    return [-p.data for p in params], grads, opt


def test_clipvalue_option():
    applied, grads, _ = sgd_step(clipvalue=0.5)
    for a, g in zip(applied, grads, strict=True):
        np.testing.assert_allclose(a, np.clip(g, -0.5, 0.5), rtol=1e-15)


def test_clipnorm_option_clips_each_gradient_by_its_own_norm():
    applied, grads, _ = sgd_step(clipnorm=1.0)
    for a, g in zip(applied, grads, strict=True):
        np.testing.assert_allclose(a, g / max(np.linalg.norm(g), 1.0), rtol=1e-12)


def test_global_clipnorm_option_uses_the_joint_norm():
    applied, grads, opt = sgd_step(global_clipnorm=1.0)
    total = reference_norm(grads, 2)
    assert opt.last_grad_norm == pytest.approx(total)
    for a, g in zip(applied, grads, strict=True):
        np.testing.assert_allclose(a, g / (total + 1e-6), rtol=1e-12)


def test_clipvalue_then_clipnorm():
    applied, grads, _ = sgd_step(clipvalue=0.5, clipnorm=1.0)
    for a, g in zip(applied, grads, strict=True):
        v = np.clip(g, -0.5, 0.5)
        np.testing.assert_allclose(a, v / max(np.linalg.norm(v), 1.0), rtol=1e-12)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("name", ["sgd", "momentum", "adam", "rmsprop", "adagrad", "nadam"])
def test_nonfinite_gradient_skips_the_step_with_a_warning(name, bad):
    params = params_with_grads(np.float32)
    opt = optim.get(name, params, lr=0.1, clipvalue=1.0)
    opt.step()
    data = [p.data.copy() for p in params]
    state = opt.state_dict()
    params[2].grad[1, 0, 1] = bad
    with pytest.warns(
        RuntimeWarning,
        match="skipped a step: the gradient of parameter 2 "
        r"\(shape \(2, 2, 2\)\) contains NaN or inf",
    ):
        opt.step()
    assert opt.skipped_steps == 1
    for p, d in zip(params, data, strict=True):
        np.testing.assert_array_equal(p.data, d)
    after = opt.state_dict()
    for index, entries in state["state"].items():
        for key, value in entries.items():
            np.testing.assert_array_equal(after["state"][index][key], value)
    params[2].grad[1, 0, 1] = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step()  # finite again: steps normally
    assert not np.array_equal(params[0].data, data[0])


def test_nonfinite_raise_and_ignore_modes():
    params = params_with_grads()
    params[0].grad[0, 0] = np.inf
    with pytest.raises(FloatingPointError, match="cannot step: the gradient of parameter 0"):
        optim.SGD(params, lr=0.1, on_nonfinite="raise").step()
    optim.SGD(params, lr=0.1, on_nonfinite="ignore").step()  # as PyTorch: the inf goes through
    assert params[0].data[0, 0] == -np.inf


def test_large_finite_float32_gradient_is_not_mistaken_for_inf():
    p = Parameter(np.zeros(4, np.float32))
    p.grad = np.full(4, 3e38, np.float32)  # the sum overflows, the values do not
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        optim.SGD([p], lr=1e-38).step()
    np.testing.assert_allclose(p.data, -3.0, rtol=1e-6)


@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
def test_nan_is_found_whatever_the_gradient_layout(layout):
    p = Parameter(np.zeros((3, 4), np.float32))
    grad = np.ones((4, 3), np.float32)
    grad[2, 1] = np.nan
    p.grad = np.ascontiguousarray(grad.T) if layout == "contiguous" else grad.T
    with pytest.warns(RuntimeWarning, match="skipped a step"):
        optim.Adam([p], lr=0.1).step()
    np.testing.assert_array_equal(p.data, 0.0)


def test_option_validation():
    p = Parameter(np.ones(2))
    with pytest.raises(ValueError, match="clipvalue must be a positive number or None"):
        optim.SGD([p], clipvalue=-1)
    with pytest.raises(ValueError, match="clip_value must be a non-negative number"):
        optim.clip_by_value([np.ones(2)], -1.0)
