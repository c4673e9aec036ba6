import functools
import math

import numpy as np
import pytest

from nnlab import optim
from nnlab.nn import Parameter
from nnlab.optim import lr_scheduler as S
from nnlab.optim import schedules


def sgd(lr=0.1, second_lr=None):
    groups = [{"params": [Parameter(np.zeros(2))]}]
    if second_lr is not None:
        groups.append({"params": [Parameter(np.zeros(2))], "lr": second_lr})
    return optim.SGD(groups, lr=lr)


def lrs(scheduler, n):
    """The lr of the first group for steps 0..n-1."""
    out = []
    for _ in range(n):
        out.append(scheduler.get_last_lr()[0])
        scheduler.step()
    return out


def test_step_decay():
    got = [schedules.step_decay(1.0, s, drop_every=3, factor=0.5) for s in range(8)]
    assert got == [1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25]


def test_multistep_decay():
    got = [schedules.multistep_decay(1.0, s, milestones=[4, 2], factor=0.1) for s in range(6)]
    np.testing.assert_allclose(got, [1, 1, 0.1, 0.1, 0.01, 0.01], rtol=1e-15)


def test_exponential_decay():
    np.testing.assert_allclose(
        [schedules.exponential_decay(2.0, s, 0.5) for s in range(4)], [2.0, 1.0, 0.5, 0.25]
    )
    assert schedules.exponential_decay(1.0, 5, 0.1, decay_steps=10) == pytest.approx(0.1**0.5)
    assert schedules.exponential_decay(
        1.0, 15, 0.1, decay_steps=10, staircase=True
    ) == pytest.approx(0.1)


def test_cosine_decay():
    assert schedules.cosine_decay(1.0, 0, 10, min_lr=0.1) == 1.0
    assert schedules.cosine_decay(1.0, 5, 10, min_lr=0.1) == pytest.approx(0.55)
    assert schedules.cosine_decay(1.0, 10, 10, min_lr=0.1) == pytest.approx(0.1)
    assert schedules.cosine_decay(1.0, 25, 10, min_lr=0.1) == pytest.approx(0.1)  # held
    assert schedules.cosine_decay(1.0, 15, 10, min_lr=0.1, clamp=False) == pytest.approx(
        0.55
    )  # rises
    t = 3
    assert schedules.cosine_decay(2.0, t, 8) == pytest.approx(1 + math.cos(math.pi * t / 8))


def test_linear_schedule():
    got = [schedules.linear_schedule(1.0, s, 0.5, 1.0, 4) for s in range(6)]
    np.testing.assert_allclose(got, [0.5, 0.625, 0.75, 0.875, 1.0, 1.0])


def test_linear_warmup_wrapper():
    schedule = schedules.linear_warmup(
        functools.partial(schedules.step_decay, 1.0, drop_every=2, factor=0.5), warmup_steps=4
    )
    got = [schedule(s) for s in range(9)]
    np.testing.assert_allclose(got, [0, 0.25, 0.5, 0.75, 1, 1, 0.5, 0.5, 0.25])
    from_half = schedules.linear_warmup(lambda s: 2.0, warmup_steps=2, start_factor=0.5)
    assert [from_half(s) for s in range(3)] == [1.0, 1.5, 2.0]
    with pytest.raises(ValueError, match="warmup_steps must be >= 0"):
        schedules.linear_warmup(lambda s: 1.0, -1)


def test_scheduler_sets_optimizer_lr_from_the_schedule():
    opt = sgd(lr=0.1, second_lr=1.0)
    sched = S.StepLR(opt, step_size=2, gamma=0.1)
    seen = []
    for _ in range(5):
        seen.append([g["lr"] for g in opt.param_groups])
        assert sched.get_last_lr() == seen[-1]
        sched.step()
    np.testing.assert_allclose(
        seen, [[0.1, 1.0], [0.1, 1.0], [0.01, 0.1], [0.01, 0.1], [0.001, 0.01]], rtol=1e-12
    )
    assert opt.param_groups[0]["initial_lr"] == 0.1


def test_exponential_and_cosine_schedulers():
    np.testing.assert_allclose(lrs(S.ExponentialLR(sgd(1.0), gamma=0.5), 4), [1, 0.5, 0.25, 0.125])
    got = lrs(S.CosineAnnealingLR(sgd(1.0), T_max=4, eta_min=0.2), 9)
    expected = [0.2 + 0.8 * (1 + math.cos(math.pi * t / 4)) / 2 for t in range(9)]
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert got[4] == pytest.approx(0.2) and got[8] == pytest.approx(1.0)


def test_lambda_scheduler_per_group():
    opt = sgd(lr=1.0, second_lr=2.0)
    sched = S.LambdaLR(opt, [lambda e: 0.5**e, lambda e: 1.0 / (e + 1)])
    sched.step()
    sched.step()
    assert sched.get_last_lr() == [0.25, 2.0 / 3]
    with pytest.raises(ValueError, match="expected 2 lr_lambdas, one per group, got 3"):
        S.LambdaLR(opt, [lambda e: 1.0] * 3)


def test_linear_lr_is_a_warmup():
    got = lrs(S.LinearLR(sgd(1.0), start_factor=0.25, total_iters=3), 5)
    np.testing.assert_allclose(got, [0.25, 0.5, 0.75, 1.0, 1.0])
    with pytest.raises(ValueError, match="0 < start_factor <= 1"):
        S.LinearLR(sgd(), start_factor=0.0)


def test_warmup_option_on_any_scheduler():
    got = lrs(S.CosineAnnealingLR(sgd(1.0), T_max=2, warmup_steps=2), 5)
    np.testing.assert_allclose(got, [0.0, 0.5, 1.0, 0.5, 0.0], atol=1e-15)
    got = lrs(S.ExponentialLR(sgd(1.0), gamma=0.5, warmup_steps=2, warmup_start_factor=0.5), 4)
    np.testing.assert_allclose(got, [0.5, 0.75, 1.0, 0.5])


def test_state_dict_resumes_the_sequence():
    opt = sgd(1.0)
    sched = S.ExponentialLR(opt, gamma=0.9)
    for _ in range(3):
        sched.step()
    state = sched.state_dict()
    opt_state = opt.state_dict()
    assert state == {"last_epoch": 3, "base_lrs": [1.0], "last_lr": [0.9**3]}
    expected = lrs(sched, 4)
    opt2 = sgd(5.0)
    opt2.load_state_dict(opt_state)
    resumed = S.ExponentialLR(opt2, gamma=0.9, last_epoch=2)  # the next step() is step 3
    resumed.load_state_dict(state)
    assert lrs(resumed, 4) == pytest.approx(expected, rel=1e-15)


def test_scheduler_errors():
    with pytest.raises(TypeError, match="expected an nnlab Optimizer, got str"):
        S.StepLR("adam", step_size=1)
    with pytest.raises(KeyError, match="has no 'initial_lr'"):
        S.StepLR(sgd(), step_size=1, last_epoch=3)
    with pytest.raises(ValueError, match="no parameters yet"):
        S.StepLR(optim.Adam(lr=0.1), step_size=1)


def test_step_with_explicit_epoch():
    sched = S.StepLR(sgd(1.0), step_size=2, gamma=0.5)
    sched.step(5)
    assert sched.last_epoch == 5 and sched.get_last_lr() == [0.25]


def test_one_cycle_argument_errors():
    with pytest.raises(ValueError, match="needs total_steps, or epochs and steps_per_epoch"):
        S.OneCycleLR(sgd(), max_lr=1.0)
    with pytest.raises(ValueError, match="no momentum or beta1 to cycle"):
        S.OneCycleLR(optim.Adagrad([Parameter(np.zeros(2))]), max_lr=1.0, total_steps=10)
    with pytest.raises(ValueError, match="expected 2 values of max_lr"):
        S.OneCycleLR(sgd(second_lr=0.5), max_lr=[1.0], total_steps=10, cycle_momentum=False)
    with pytest.raises(ValueError, match="anneal_strategy must be 'cos' or 'linear'"):
        S.OneCycleLR(sgd(), max_lr=1.0, total_steps=10, anneal_strategy="exp")


def test_one_cycle_rises_to_the_peak_then_anneals_far_below_the_start():
    opt = optim.SGD([Parameter(np.zeros(2))], lr=0.1, momentum=0.9)
    sched = S.OneCycleLR(opt, max_lr=1.0, total_steps=10, pct_start=0.5)
    got, momenta = [], []
    for step in range(10):
        if step:
            sched.step()
        got.append(sched.get_last_lr()[0])
        momenta.append(opt.param_groups[0]["momentum"])
    assert got[0] == pytest.approx(1.0 / 25) and max(got) == pytest.approx(1.0)
    assert got.index(max(got)) == 4 == momenta.index(min(momenta))  # peak lr, least momentum
    assert got[-1] == pytest.approx(1.0 / 25 / 1e4)
    assert momenta[0] == momenta[-1] == pytest.approx(0.95) and min(momenta) == pytest.approx(0.85)


def test_reduce_lr_on_plateau_argument_errors_and_state_round_trip():
    with pytest.raises(ValueError, match="needs 0 < factor < 1, got factor=1.5"):
        S.ReduceLROnPlateau(sgd(), factor=1.5)
    with pytest.raises(ValueError, match="mode must be 'min' or 'max'"):
        S.ReduceLROnPlateau(sgd(), mode="up")
    sched = S.ReduceLROnPlateau(sgd(), patience=1)
    for loss in (1.0, 1.0, 1.0):
        sched.step(loss)
    assert sched.get_last_lr() == pytest.approx([0.01])
    resumed = S.ReduceLROnPlateau(sgd(lr=0.01), patience=1)
    resumed.load_state_dict(sched.state_dict())
    resumed.step(1.0)
    sched.step(1.0)
    assert resumed.num_bad_epochs == sched.num_bad_epochs == 1
