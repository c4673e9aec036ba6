"""Every functional loss and nn loss module against torch.nn.functional / torch.nn: forward,
input gradient and (where PyTorch differentiates it) target gradient, float32 and float64."""

import json

import numpy as np
import pytest

import nnlab.functional as F
from nnlab import Tensor, nn
from nnlab.nn import loss as nn_loss

from oracles import torch_module

DTYPES = [(np.float32, 1e-5), (np.float64, 1e-10)]
REDUCTIONS = ["mean", "sum", "none"]


def _close(ours, theirs, rtol):
    # relative to the array's scale, so near-zero entries of a float32 gradient still compare
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=rtol * max(np.abs(theirs).max(), 1))


def _compare(ours, theirs, x, t, rtol, target_grad=False):
    """Forward, input gradient and optionally target gradient of ours(x, t) vs theirs(x, t)."""
    torch = torch_module()
    tx, nx = torch.tensor(x, requires_grad=True), Tensor(x, requires_grad=True)
    tt, nt = torch.tensor(t, requires_grad=target_grad), Tensor(t, requires_grad=target_grad)
    out_t, out_n = theirs(tx, tt), ours(nx, nt)
    assert out_n.dtype == x.dtype and out_n.shape == tuple(out_t.shape)
    _close(out_n.data, out_t.detach().numpy(), rtol)
    g = np.random.default_rng(1).uniform(0.5, 1.5, size=out_n.shape).astype(x.dtype)
    out_t.backward(torch.tensor(g))
    out_n.backward(g)
    assert nx.grad.dtype == x.dtype
    _close(nx.grad, tx.grad.numpy(), rtol)
    if target_grad:
        _close(nt.grad, tt.grad.numpy(), rtol)


def _data(shape, dtype, seed=0, low=-2.0, high=2.0):
    return np.random.default_rng(seed).uniform(low, high, size=shape).astype(dtype)


def _t(torch, array):
    return None if array is None else torch.tensor(array)


# ---- regression -----------------------------------------------------------------------------


@pytest.mark.parametrize("dtype,rtol", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(5,), (4, 3), (2, 3, 4)])
def test_regression_losses(shape, reduction, dtype, rtol):
    torch = torch_module()
    x, t = _data(shape, dtype), _data(shape, dtype, seed=1)
    pairs = [
        (F.mse_loss, torch.nn.functional.mse_loss, {}),
        (F.l1_loss, torch.nn.functional.l1_loss, {}),
        (F.huber_loss, torch.nn.functional.huber_loss, {"delta": 1.0}),
        (F.huber_loss, torch.nn.functional.huber_loss, {"delta": 0.3}),
        (F.huber_loss, torch.nn.functional.huber_loss, {"delta": 2.5}),
    ]
    for ours, theirs, kw in pairs:
        _compare(
            lambda a, b, f=ours, kw=kw: f(a, b, reduction=reduction, **kw),
            lambda a, b, f=theirs, kw=kw: f(a, b, reduction=reduction, **kw),
            x,
            t,
            rtol,
            target_grad=True,
        )


# ---- cross-entropy --------------------------------------------------------------------------

CE_CONFIGS = [
    # (logits shape, target kind, weighted, label smoothing)
    ((6, 4), "index", False, 0.0),
    ((6, 4), "index", True, 0.0),
    ((8, 5), "index", False, 0.1),
    ((8, 5), "index", True, 0.2),
    ((8, 5), "ignore", True, 0.1),
    ((3, 4, 2), "index", True, 0.1),
    ((5,), "index", True, 0.1),
    ((6, 4), "probs", False, 0.0),
    ((6, 4), "probs", True, 0.0),
    ((6, 4), "probs", True, 0.3),
    ((6, 4), "onehot", True, 0.1),
    ((3, 4, 2), "probs", True, 0.1),
]


def _ce_target(shape, kind, seed=2):
    rng = np.random.default_rng(seed)
    classes = shape[1] if len(shape) > 1 else shape[0]
    index_shape = shape[:1] + shape[2:] if len(shape) > 1 else ()
    if kind in ("index", "ignore", "onehot"):
        target = rng.integers(0, classes, size=index_shape)
        if kind == "ignore":
            target.reshape(-1)[::3] = -100
        if kind == "onehot":
            return np.eye(classes)[target]
        return target
    p = rng.uniform(0.1, 1.0, size=shape)
    return p / p.sum(axis=1 if len(shape) > 1 else 0, keepdims=True)


@pytest.mark.parametrize("dtype,rtol", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape,kind,weighted,eps", CE_CONFIGS)
def test_cross_entropy(shape, kind, weighted, eps, reduction, dtype, rtol):
    torch = torch_module()
    classes = shape[1] if len(shape) > 1 else shape[0]
    x = _data(shape, dtype, low=-4, high=4)
    target = _ce_target(shape, kind)
    if target.dtype.kind == "f":
        target = target.astype(dtype)
    w = _data((classes,), dtype, seed=3, low=0.5, high=2.0) if weighted else None
    _compare(
        lambda a, b: F.cross_entropy(a, b, w, reduction, label_smoothing=eps),
        lambda a, b: torch.nn.functional.cross_entropy(
            a, b, _t(torch, w), reduction=reduction, label_smoothing=eps
        ),
        x,
        target,
        rtol,
        target_grad=target.dtype.kind == "f",
    )


NLL_CONFIGS = [
    ((6, 4), "index", False),
    ((6, 4), "ignore", True),
    ((2, 3, 5), "ignore", False),
    ((2, 3, 2, 2), "index", True),
]


@pytest.mark.parametrize("dtype,rtol", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape,kind,weighted", NLL_CONFIGS)
def test_nll_loss(shape, kind, weighted, reduction, dtype, rtol):
    torch = torch_module()
    classes = shape[1]
    x = _data(shape, dtype, low=-4, high=0)  # log-probability-like values
    target = _ce_target(shape, kind)
    w = _data((classes,), dtype, seed=3, low=0.5, high=2.0) if weighted else None
    _compare(
        lambda a, b: F.nll_loss(a, b, w, reduction=reduction),
        lambda a, b: torch.nn.functional.nll_loss(a, b, _t(torch, w), reduction=reduction),
        x,
        target,
        rtol,
        target_grad=False,
    )


# ---- binary cross-entropy -------------------------------------------------------------------


@pytest.mark.parametrize("dtype,rtol", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape,w_shape", [((5,), None), ((4, 3), (3,)), ((2, 3, 4), (3, 1))])
def test_binary_cross_entropy(shape, w_shape, reduction, dtype, rtol):
    torch = torch_module()
    p = _data(shape, dtype, low=0.02, high=0.98)
    y = _data(shape, dtype, seed=1, low=0.0, high=1.0)
    w = None if w_shape is None else _data(w_shape, dtype, seed=2, low=0.5, high=2)
    _compare(
        lambda a, b: F.binary_cross_entropy(a, b, w, reduction),
        lambda a, b: torch.nn.functional.binary_cross_entropy(
            a, b, _t(torch, w), reduction=reduction
        ),
        p,
        y,
        rtol,
        target_grad=True,
    )


BCE_LOGITS_CONFIGS = [
    ((5,), None, None),
    ((4, 3), (3,), None),
    ((4, 3), None, (3,)),
    ((2, 3, 4), (3, 1), (4,)),
    ((6, 1), None, (1,)),
]


@pytest.mark.parametrize("dtype,rtol", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape,w_shape,pw_shape", BCE_LOGITS_CONFIGS)
def test_binary_cross_entropy_with_logits(shape, w_shape, pw_shape, reduction, dtype, rtol):
    torch = torch_module()
    x = _data(shape, dtype, low=-5, high=5)
    y = _data(shape, dtype, seed=1, low=0.0, high=1.0)
    w = None if w_shape is None else _data(w_shape, dtype, seed=2, low=0.5, high=2)
    pw = None if pw_shape is None else _data(pw_shape, dtype, seed=3, low=0.5, high=4)
    _compare(
        lambda a, b: F.binary_cross_entropy_with_logits(a, b, w, reduction, pos_weight=pw),
        lambda a, b: torch.nn.functional.binary_cross_entropy_with_logits(
            a, b, _t(torch, w), reduction=reduction, pos_weight=_t(torch, pw)
        ),
        x,
        y,
        rtol,
        target_grad=True,
    )


def test_bce_with_logits_at_plus_minus_1000_matches_pytorch():
    torch = torch_module()
    x, y = np.array([1000.0, -1000.0, 0.0]), np.array([0.0, 1.0, 0.5])
    _compare(
        F.binary_cross_entropy_with_logits,
        torch.nn.functional.binary_cross_entropy_with_logits,
        x,
        y,
        1e-10,
    )


# ---- KL divergence --------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss")
@pytest.mark.parametrize("dtype,rtol", DTYPES)
@pytest.mark.parametrize("log_target", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("shape", [(5,), (4, 3), (2, 3, 4)])
def test_kl_div(shape, reduction, log_target, dtype, rtol):
    torch = torch_module()
    p = _data(shape, dtype, low=0.05, high=1.0)
    q = _data(shape, dtype, seed=1, low=0.05, high=1.0)
    target = np.log(q) if log_target else q
    _compare(
        lambda a, b: F.kl_div(a, b, reduction=reduction, log_target=log_target),
        lambda a, b: torch.nn.functional.kl_div(a, b, reduction=reduction, log_target=log_target),
        np.log(p),
        target.astype(dtype),
        rtol,
        target_grad=True,
    )


# ---- nn modules -----------------------------------------------------------------------------


def _module_cases(torch, dtype):
    """(ours, theirs, input, target) for every loss module, in several configurations."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 4)).astype(dtype)
    reg_t = rng.normal(size=(6, 4)).astype(dtype)
    labels = rng.integers(0, 4, size=6)
    probs = rng.uniform(0.05, 0.95, size=(6, 4)).astype(dtype)
    binary = rng.uniform(size=(6, 4)).astype(dtype)
    w = rng.uniform(0.5, 2, size=4).astype(dtype)
    log_p = np.log(probs / probs.sum(1, keepdims=True)).astype(dtype)
    padded = np.where(np.arange(6) % 3 == 0, 0, labels)  # class 0 as padding, ignored
    tn = torch.nn
    return [
        (nn_loss.MSELoss(), tn.MSELoss(), x, reg_t),
        (nn_loss.MSELoss("sum"), tn.MSELoss(reduction="sum"), x, reg_t),
        (nn_loss.L1Loss("none"), tn.L1Loss(reduction="none"), x, reg_t),
        (nn_loss.HuberLoss(delta=0.5), tn.HuberLoss(delta=0.5), x, reg_t),
        (nn_loss.CrossEntropyLoss(), tn.CrossEntropyLoss(), x, labels),
        (
            nn_loss.CrossEntropyLoss(weight=w, label_smoothing=0.1),
            tn.CrossEntropyLoss(weight=torch.tensor(w), label_smoothing=0.1),
            x,
            labels,
        ),
        (
            nn_loss.CrossEntropyLoss(weight=w, label_smoothing=0.1, ignore_index=0),
            tn.CrossEntropyLoss(weight=torch.tensor(w), label_smoothing=0.1, ignore_index=0),
            x,
            padded,
        ),
        (
            nn_loss.CrossEntropyLoss(ignore_index=0, reduction="none"),
            tn.CrossEntropyLoss(ignore_index=0, reduction="none"),
            x,
            padded,
        ),
        (
            nn_loss.CrossEntropyLoss(weight=w, reduction="sum"),
            tn.CrossEntropyLoss(weight=torch.tensor(w), reduction="sum"),
            x,
            probs,
        ),
        (nn_loss.NLLLoss(), tn.NLLLoss(), log_p, labels),
        (
            nn_loss.NLLLoss(weight=w, ignore_index=0),
            tn.NLLLoss(weight=torch.tensor(w), ignore_index=0),
            log_p,
            padded,
        ),
        (nn_loss.NLLLoss(reduction="none"), tn.NLLLoss(reduction="none"), log_p, labels),
        (nn_loss.BCELoss(), tn.BCELoss(), probs, binary),
        (nn_loss.BCELoss(weight=w), tn.BCELoss(weight=torch.tensor(w)), probs, binary),
        (nn_loss.BCEWithLogitsLoss(), tn.BCEWithLogitsLoss(), x, binary),
        (
            nn_loss.BCEWithLogitsLoss(weight=w, pos_weight=2 * w, reduction="none"),
            tn.BCEWithLogitsLoss(
                weight=torch.tensor(w), pos_weight=torch.tensor(2 * w), reduction="none"
            ),
            x,
            binary,
        ),
        (nn_loss.KLDivLoss(reduction="batchmean"), tn.KLDivLoss(reduction="batchmean"), x, probs),
        (
            nn_loss.KLDivLoss(reduction="sum", log_target=True),
            tn.KLDivLoss(reduction="sum", log_target=True),
            x,
            log_p,
        ),
    ]


@pytest.mark.parametrize("dtype,rtol", DTYPES)
def test_nn_loss_modules_match_torch_nn(dtype, rtol):
    torch = torch_module()
    for ours, theirs, x, t in _module_cases(torch, dtype):
        _compare(ours, theirs, x, t, rtol)


def test_nn_loss_modules_state_dict_and_config_round_trip():
    torch = torch_module()
    for ours, theirs, x, t in _module_cases(torch, np.float64):
        assert list(ours.state_dict()) == list(theirs.state_dict()), type(ours).__name__
        for key, value in theirs.state_dict().items():
            np.testing.assert_array_equal(ours.state_dict()[key], value.numpy())
        config = json.loads(json.dumps(ours.get_config()))
        rebuilt = type(ours).from_config(config)
        np.testing.assert_array_equal(rebuilt(Tensor(x), t).data, ours(Tensor(x), t).data)
        assert isinstance(ours, nn.Module)


def test_nn_loss_module_errors():
    with pytest.raises(ValueError, match="MSELoss: reduction must be one of 'mean', 'sum', 'none'"):
        nn_loss.MSELoss("batchmean")
    with pytest.raises(ValueError, match=r"label_smoothing must be in \[0, 1\], got -0.1"):
        nn_loss.CrossEntropyLoss(label_smoothing=-0.1)
    with pytest.raises(ValueError, match="HuberLoss: delta must be positive, got -1"):
        nn_loss.HuberLoss(delta=-1)
