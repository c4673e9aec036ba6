"""Optimizers, schedulers and clipping against torch.optim / torch.nn.utils.

Each optimizer takes 20 steps from the same parameters with the same random gradients as its
PyTorch twin (one parameter gets no gradient on odd steps); parameters and state must match.
"""

import math

import numpy as np
import pytest

from nnlab import optim
from nnlab.nn import Parameter
from nnlab.optim import lr_scheduler

from oracles import torch_module

SHAPES = [(4, 3), (3,), (2, 2, 3), ()]

CASES = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.02}),
    ("RMSprop", {}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.8, "centered": True}),
    ("RMSprop", {"lr": 0.005, "centered": True, "weight_decay": 0.01, "eps": 1e-6}),
    ("RMSprop", {"momentum": 0.5}),
    ("Adagrad", {}),
    (
        "Adagrad",
        {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.1, "initial_accumulator_value": 0.1},
    ),
    ("Adagrad", {"eps": 1e-6, "lr_decay": 0.5}),
    ("Adam", {}),
    ("Adam", {"lr": 0.01, "betas": (0.8, 0.99), "weight_decay": 0.1}),
    ("Adam", {"lr": 0.01, "amsgrad": True}),
    ("Adam", {"amsgrad": True, "weight_decay": 0.05, "eps": 1e-6}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("AdamW", {}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}),
    ("NAdam", {}),
    ("NAdam", {"lr": 0.01, "weight_decay": 0.1, "momentum_decay": 0.01}),
    (
        "NAdam",
        {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True, "betas": (0.8, 0.95)},
    ),
]

TOLERANCE = {np.float32: {"rtol": 1e-6, "atol": 1e-7}, np.float64: {"rtol": 1e-12, "atol": 1e-14}}


@pytest.fixture
def torch_dtype():
    """torch keeps NAdam's mu_product in the default dtype: match it to the parameters'."""
    torch = torch_module()
    previous = torch.get_default_dtype()
    yield torch
    torch.set_default_dtype(previous)


def _params(dtype, seed=0):
    rng = np.random.default_rng(seed)
    return [np.asarray(rng.uniform(-1, 1, size=s), dtype) for s in SHAPES]


def _grads(dtype, steps, seed=1):
    rng = np.random.default_rng(seed)
    return [[np.asarray(rng.standard_normal(s), dtype) for s in SHAPES] for _ in range(steps)]


def _run_both(torch, name, kwargs, dtype, steps=20):
    torch.set_default_dtype(torch.float64 if dtype == np.float64 else torch.float32)
    arrays = _params(dtype)
    ours = [Parameter(a.copy()) for a in arrays]
    theirs = [torch.nn.Parameter(torch.from_numpy(a.copy())) for a in arrays]
    opt = getattr(optim, name)(ours, **kwargs)
    topt = getattr(torch.optim, name)(theirs, **kwargs)
    for step, grads in enumerate(_grads(dtype, steps)):
        for k, (p, tp, g) in enumerate(zip(ours, theirs, grads, strict=True)):
            skip = k == 2 and step % 2 == 1  # torch and nnlab both skip params without grad
            p.grad = None if skip else g
            tp.grad = None if skip else torch.from_numpy(g.copy())
        opt.step()
        topt.step()
        for p, tp in zip(ours, theirs, strict=True):
            np.testing.assert_allclose(
                p.data,
                tp.detach().numpy(),
                **TOLERANCE[dtype],
                err_msg=f"{name}{kwargs} step {step}",
            )
    return opt, topt


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("name", "kwargs"), CASES)
def test_optimizer_matches_torch(torch_dtype, name, kwargs, dtype):
    opt, topt = _run_both(torch_dtype, name, kwargs, dtype)
    ours, theirs = opt.state_dict()["state"], topt.state_dict()["state"]
    assert sorted(ours) == sorted(theirs)
    for index, entries in theirs.items():
        assert set(ours[index]) == set(entries), f"state names of parameter {index}"
        for key, value in entries.items():
            got = ours[index][key]
            np.testing.assert_allclose(got, value.numpy(), **TOLERANCE[dtype], err_msg=key)
            if isinstance(got, np.ndarray):
                assert got.dtype == dtype


@pytest.mark.parametrize("name", ["SGD", "Adam"])
def test_param_groups_match_torch(torch_dtype, name):
    torch = torch_dtype
    arrays = _params(np.float64)
    ours = [Parameter(a.copy()) for a in arrays]
    theirs = [torch.nn.Parameter(torch.from_numpy(a.copy())) for a in arrays]
    extra = {"momentum": 0.9} if name == "SGD" else {"betas": (0.5, 0.9)}
    opt = getattr(optim, name)(
        [{"params": ours[:2]}, {"params": ours[2:], "lr": 0.3, **extra}], lr=0.01
    )
    topt = getattr(torch.optim, name)(
        [{"params": theirs[:2]}, {"params": theirs[2:], "lr": 0.3, **extra}], lr=0.01
    )
    for grads in _grads(np.float64, 20):
        for p, tp, g in zip(ours, theirs, grads, strict=True):
            p.grad, tp.grad = g, torch.from_numpy(g.copy())
        opt.step()
        topt.step()
    for p, tp in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-12, atol=1e-14)


# ---- learning-rate schedulers -----------------------------------------------------------------
SCHEDULERS = [
    ("StepLR", {"step_size": 3, "gamma": 0.5}),
    ("StepLR", {"step_size": 1}),
    ("MultiStepLR", {"milestones": [2, 5, 11], "gamma": 0.3}),
    ("ExponentialLR", {"gamma": 0.9}),
    ("CosineAnnealingLR", {"T_max": 10}),
    ("CosineAnnealingLR", {"T_max": 7, "eta_min": 0.01}),
    ("LinearLR", {}),
    ("LinearLR", {"start_factor": 0.1, "end_factor": 0.5, "total_iters": 8}),
    ("LambdaLR", {"lr_lambda": lambda e: 1.0 / (1 + e)}),
]


@pytest.mark.parametrize(("name", "kwargs"), SCHEDULERS)
def test_scheduler_lr_sequence_matches_torch(name, kwargs):
    torch = torch_module()
    opt = optim.SGD(
        [{"params": [Parameter(np.zeros(2))]}, {"params": [Parameter(np.zeros(2))], "lr": 0.5}],
        lr=0.1,
    )
    topt = torch.optim.SGD(
        [
            {"params": [torch.nn.Parameter(torch.zeros(2))]},
            {"params": [torch.nn.Parameter(torch.zeros(2))], "lr": 0.5},
        ],
        lr=0.1,
    )
    sched = getattr(lr_scheduler, name)(opt, **kwargs)
    tsched = getattr(torch.optim.lr_scheduler, name)(topt, **kwargs)
    for epoch in range(35):  # past T_max: the cosine rises again in both
        np.testing.assert_allclose(
            sched.get_last_lr(),
            tsched.get_last_lr(),
            rtol=1e-12,
            atol=1e-15,
            err_msg=f"{name} epoch {epoch}",
        )
        assert [g["lr"] for g in opt.param_groups] == sched.get_last_lr()
        topt.step()
        opt.step()
        sched.step()
        tsched.step()


def _two_group_pair(torch, kind: str, **options):
    """The same two-group optimizer (lr 0.1 and 0.5) in nnlab and in torch."""
    ours = getattr(optim, kind)(
        [{"params": [Parameter(np.zeros(2))]}, {"params": [Parameter(np.zeros(2))], "lr": 0.5}],
        lr=0.1,
        **options,
    )
    theirs = getattr(torch.optim, kind)(
        [
            {"params": [torch.nn.Parameter(torch.zeros(2))]},
            {"params": [torch.nn.Parameter(torch.zeros(2))], "lr": 0.5},
        ],
        lr=0.1,
        **options,
    )
    return ours, theirs


def _momenta(opt) -> list:
    return [g["betas"][0] if "betas" in g else g["momentum"] for g in opt.param_groups]


ONE_CYCLE = [
    ("SGD", {"momentum": 0.9}, {"max_lr": 1.0, "total_steps": 20}),
    (
        "Adam",
        {},
        {"max_lr": [0.01, 0.02], "epochs": 3, "steps_per_epoch": 5, "anneal_strategy": "linear"},
    ),
    ("SGD", {"momentum": 0.9}, {"max_lr": 1.0, "total_steps": 15, "three_phase": True}),
    ("SGD", {}, {"max_lr": 0.3, "total_steps": 12, "cycle_momentum": False, "pct_start": 0.5}),
]


@pytest.mark.parametrize(("kind", "options", "kwargs"), ONE_CYCLE)
def test_one_cycle_lr_and_momentum_match_torch(kind, options, kwargs):
    torch = torch_module()
    opt, topt = _two_group_pair(torch, kind, **options)
    sched = lr_scheduler.OneCycleLR(opt, **kwargs)
    tsched = torch.optim.lr_scheduler.OneCycleLR(topt, **kwargs)
    steps = kwargs.get("total_steps") or kwargs["epochs"] * kwargs["steps_per_epoch"]
    for step in range(steps + 1):
        np.testing.assert_allclose(
            sched.get_last_lr(), tsched.get_last_lr(), rtol=1e-12, err_msg=f"step {step}"
        )
        if kwargs.get("cycle_momentum", True):
            np.testing.assert_allclose(_momenta(opt), _momenta(topt), rtol=1e-12)
        if step < steps:
            for stepper in (opt, topt, sched, tsched):
                stepper.step()
    with pytest.raises(ValueError, match="tried to step"):
        sched.step()  # torch raises too: the cycle is over


PLATEAU_METRIC = [1.0, 0.9, 0.9, 0.95, 0.91, 0.8999, 0.9, 0.9, 0.9, 0.9, np.nan, 0.5, 0.5]
PLATEAU_METRIC += [0.5, 0.49999, 0.5, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4]
PLATEAUS = [
    {"patience": 2},
    {"patience": 1, "factor": 0.5, "threshold": 0.05, "threshold_mode": "abs", "cooldown": 2},
    {"patience": 0, "factor": 0.5, "min_lr": [0.02, 0.3]},
    {"mode": "max", "patience": 1, "factor": 0.2},
]


@pytest.mark.parametrize("kwargs", PLATEAUS)
def test_reduce_lr_on_plateau_matches_torch(kwargs):
    torch = torch_module()
    opt, topt = _two_group_pair(torch, "SGD")
    sched = lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
    tsched = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kwargs)
    for epoch, metric in enumerate(PLATEAU_METRIC):
        sched.step(metric)
        tsched.step(metric)
        np.testing.assert_allclose(
            sched.get_last_lr(), tsched.get_last_lr(), rtol=1e-12, err_msg=f"epoch {epoch}"
        )
        assert [g["lr"] for g in opt.param_groups] == sched.get_last_lr()
    assert sched.get_last_lr() != [0.1, 0.5]  # the sequence does reduce


# ---- gradient clipping -----------------------------------------------------------------------
def _grad_pairs(torch, dtype, scale):
    ours, theirs = [], []
    for k, g in enumerate(_grads(dtype, 1)[0]):
        p = Parameter(np.zeros(g.shape, dtype))
        tp = torch.nn.Parameter(torch.zeros(g.shape, dtype=torch.from_numpy(g).dtype))
        g = np.asarray(g * scale * (k + 1), dtype)
        p.grad, tp.grad = g.copy(), torch.from_numpy(g.copy())
        ours.append(p)
        theirs.append(tp)
    return ours, theirs


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize(("scale", "max_norm"), [(1.0, 1.0), (0.01, 5.0), (10.0, 0.5)])
def test_clip_grad_norm_matches_torch(dtype, norm_type, scale, max_norm):
    torch = torch_module()
    ours, theirs = _grad_pairs(torch, dtype, scale)
    total = optim.clip_grad_norm_(ours, max_norm, norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    rtol = 1e-6 if dtype == np.float32 else 1e-12
    assert total == pytest.approx(ttotal.item(), rel=rtol)
    for p, tp in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(p.grad, tp.grad.numpy(), rtol=rtol, atol=0)
        assert p.grad.dtype == dtype


@pytest.mark.parametrize("clip_value", [0.1, 0.5, 10.0])
def test_clip_grad_value_matches_torch(clip_value):
    torch = torch_module()
    ours, theirs = _grad_pairs(torch, np.float32, 1.0)
    optim.clip_grad_value_(ours, clip_value)
    torch.nn.utils.clip_grad_value_(theirs, clip_value)
    for p, tp in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(p.grad, tp.grad.numpy())


def test_global_clipnorm_option_equals_torch_clip_then_step(torch_dtype):
    torch = torch_dtype
    arrays = _params(np.float64)
    ours = [Parameter(a.copy()) for a in arrays]
    theirs = [torch.nn.Parameter(torch.from_numpy(a.copy())) for a in arrays]
    opt = optim.Adam(ours, lr=0.01, global_clipnorm=0.5)
    topt = torch.optim.Adam(theirs, lr=0.01)
    for grads in _grads(np.float64, 20):
        for p, tp, g in zip(ours, theirs, grads, strict=True):
            p.grad, tp.grad = g, torch.from_numpy(g.copy())
        opt.step()
        torch.nn.utils.clip_grad_norm_(theirs, 0.5)
        topt.step()
        for p, g in zip(ours, grads, strict=True):
            np.testing.assert_array_equal(p.grad, g)  # step() left .grad alone
    for p, tp in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-12, atol=1e-14)
