"""PyTorch-style learning-rate scheduler objects (the pure schedules they compute are in
``nnlab.optim.schedules``).

A scheduler wraps an optimizer: each ``step()`` advances its counter ``last_epoch`` and sets
every parameter group's ``lr`` to the schedule's value for that count, starting from the
group's ``initial_lr``. Whether a "step" is a batch or an epoch is up to whoever calls
``step()``. ``ReduceLROnPlateau`` instead steps on a metric.

PyTorch computes most schedules recursively from the current lr; here they are closed forms,
which give the same sequence when a scheduler is used alone (the parity tests check this) but
override, rather than compose with, outside changes to the lr.
"""

import functools

from nnlab.optim.optimizer import Optimizer
from nnlab.optim.plateau import ReduceLROnPlateau  # noqa: F401 - torch's lr_scheduler has it
from nnlab.optim.schedules import (
    cosine_between,
    cosine_decay,
    exponential_decay,
    linear_between,
    linear_schedule,
    linear_warmup,
    multistep_decay,
    per_group,
    step_decay,
)


class LRScheduler:
    """Base class: sets the optimizer's lr from a pure function of the step count.

    Args:
        optimizer: the Optimizer whose parameter groups' ``lr`` this scheduler sets.
        last_epoch: the count of the last step taken; -1 starts fresh. A resumed scheduler
            needs ``initial_lr`` in the optimizer's groups (it is in the optimizer's state).
        warmup_steps: rise linearly to the schedule's first value over this many steps first
            (see ``linear_warmup``); 0 for none.
        warmup_start_factor: the fraction of the first value the warmup starts from.

    Making the scheduler sets the lr for step 0; call ``step()`` after each
    ``optimizer.step()``.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        last_epoch: int = -1,
        *,
        warmup_steps: int = 0,
        warmup_start_factor: float = 0.0,
    ):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"expected an nnlab Optimizer, got {type(optimizer).__name__}")
        if not optimizer.param_groups:
            raise ValueError("the optimizer has no parameters yet; build() it first")
        self.optimizer = optimizer
        for k, group in enumerate(optimizer.param_groups):
            if last_epoch == -1:
                group.setdefault("initial_lr", group["lr"])
            elif "initial_lr" not in group:
                raise KeyError(
                    f"parameter group {k} has no 'initial_lr', so the schedule cannot resume at "
                    f"last_epoch={last_epoch}; load the optimizer's state first"
                )
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.warmup_steps = warmup_steps
        self.warmup_start_factor = warmup_start_factor
        self.last_epoch = last_epoch
        self.step()

    def lr_at(self, base_lr: float, epoch: int, group: int) -> float:
        """The schedule: the lr at step ``epoch`` of a group starting at ``base_lr``."""
        raise NotImplementedError(f"{type(self).__name__} does not define lr_at()")

    def get_lr(self) -> list:
        """The lr of every group at the current ``last_epoch``, warmup included."""
        lrs = []
        for k, base in enumerate(self.base_lrs):
            schedule = functools.partial(self.lr_at, base, group=k)
            warmed = linear_warmup(schedule, self.warmup_steps, self.warmup_start_factor)
            lrs.append(warmed(self.last_epoch))
        return lrs

    def step(self, epoch: int | None = None) -> None:
        """Advance to the next step (or jump to ``epoch``) and set the optimizer's lr."""
        self.last_epoch = self.last_epoch + 1 if epoch is None else int(epoch)
        lrs = self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, lrs, strict=True):
            group["lr"] = lr
        self._last_lr = lrs

    def get_last_lr(self) -> list:
        """The lr of every group as last set by this scheduler."""
        return list(self._last_lr)

    def state_dict(self) -> dict:
        """The step count and base lrs, as plain numbers."""
        return {
            "last_epoch": self.last_epoch,
            "base_lrs": list(self.base_lrs),
            "last_lr": list(self._last_lr),
        }

    def load_state_dict(self, state: dict) -> None:
        self.last_epoch = int(state["last_epoch"])
        self.base_lrs = list(state["base_lrs"])
        self._last_lr = list(state["last_lr"])


class LambdaLR(LRScheduler):
    """lr = initial lr * ``lr_lambda(step)``; one function for all groups or one per group."""

    def __init__(self, optimizer, lr_lambda, last_epoch: int = -1, **warmup):
        n = len(optimizer.param_groups)
        many = isinstance(lr_lambda, list | tuple)
        self.lr_lambdas = list(lr_lambda) if many else [lr_lambda] * n
        if len(self.lr_lambdas) != n:
            raise ValueError(f"expected {n} lr_lambdas, one per group, got {len(self.lr_lambdas)}")
        super().__init__(optimizer, last_epoch, **warmup)

    def lr_at(self, base_lr, epoch, group):
        return base_lr * self.lr_lambdas[group](epoch)


class StepLR(LRScheduler):
    """Multiply the lr by ``gamma`` every ``step_size`` steps (``step_decay``)."""

    def __init__(
        self, optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1, **warmup
    ):
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch, **warmup)

    def lr_at(self, base_lr, epoch, group):
        return step_decay(base_lr, epoch, self.step_size, self.gamma)


class MultiStepLR(LRScheduler):
    """Multiply the lr by ``gamma`` at each milestone (``multistep_decay``)."""

    def __init__(self, optimizer, milestones, gamma: float = 0.1, last_epoch: int = -1, **warmup):
        self.milestones, self.gamma = sorted(milestones), gamma
        super().__init__(optimizer, last_epoch, **warmup)

    def lr_at(self, base_lr, epoch, group):
        return multistep_decay(base_lr, epoch, self.milestones, self.gamma)


class ExponentialLR(LRScheduler):
    """Multiply the lr by ``gamma`` every step (``exponential_decay``)."""

    def __init__(self, optimizer, gamma: float, last_epoch: int = -1, **warmup):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch, **warmup)

    def lr_at(self, base_lr, epoch, group):
        return exponential_decay(base_lr, epoch, self.gamma)


class CosineAnnealingLR(LRScheduler):
    """Cosine from the initial lr down to ``eta_min`` over ``T_max`` steps (``cosine_decay``;
    past ``T_max`` the cosine rises again, as in PyTorch)."""

    def __init__(self, optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1, **warmup):
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch, **warmup)

    def lr_at(self, base_lr, epoch, group):
        return cosine_decay(base_lr, epoch, self.T_max, self.eta_min, clamp=False)


class LinearLR(LRScheduler):
    """Scale the lr by a factor going linearly from ``start_factor`` to ``end_factor`` over
    ``total_iters`` steps (``linear_schedule``); with ``end_factor=1`` this is a linear warmup."""

    def __init__(
        self,
        optimizer,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
        last_epoch: int = -1,
        **warmup,
    ):
        if not 0 < start_factor <= 1 or not 0 <= end_factor <= 1:
            raise ValueError(
                f"need 0 < start_factor <= 1 and 0 <= end_factor <= 1, got {start_factor}, "
                f"{end_factor}"
            )
        self.start_factor, self.end_factor, self.total_iters = start_factor, end_factor, total_iters
        super().__init__(optimizer, last_epoch, **warmup)

    def lr_at(self, base_lr, epoch, group):
        return linear_schedule(base_lr, epoch, self.start_factor, self.end_factor, self.total_iters)


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith and Topin 2017), as ``torch.optim.lr_scheduler.OneCycleLR``:
    the lr rises from ``max_lr / div_factor`` to ``max_lr`` over the first ``pct_start`` of
    ``total_steps`` steps, then anneals to ``initial / final_div_factor``; momentum (or Adam's
    beta1) moves the opposite way between ``max_momentum`` and ``base_momentum``. Call
    ``step()`` after every batch; stepping past ``total_steps`` raises.

    Args:
        max_lr: the peak lr, one for all groups or one per group.
        total_steps: the length of the cycle; or give ``epochs`` and ``steps_per_epoch``.
        pct_start: the fraction of the cycle spent rising.
        anneal_strategy: 'cos' or 'linear'.
        cycle_momentum, base_momentum, max_momentum: the momentum cycle (needs an optimizer
            with ``momentum`` or ``betas``).
        div_factor, final_div_factor: initial lr = max_lr / div_factor; final lr = initial
            lr / final_div_factor.
        three_phase: come back down to the initial lr before the final annealing.
    """

    def __init__(
        self,
        optimizer,
        max_lr,
        total_steps=None,
        epochs=None,
        steps_per_epoch=None,
        pct_start=0.3,
        anneal_strategy="cos",
        cycle_momentum=True,
        base_momentum=0.85,
        max_momentum=0.95,
        div_factor=25.0,
        final_div_factor=1e4,
        three_phase=False,
        last_epoch=-1,
    ):
        self.total_steps = _cycle_length(total_steps, epochs, steps_per_epoch)
        if not 0 <= pct_start <= 1:
            raise ValueError(f"OneCycleLR: pct_start must be in [0, 1], got {pct_start}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}")
        self.anneal = cosine_between if anneal_strategy == "cos" else linear_between
        rise = float(pct_start * self.total_steps) - 1
        # (last step of the phase, lr from, lr to, momentum from, momentum to), keys of a group
        self.phases = [(rise, "initial_lr", "max_lr", "max_momentum", "base_momentum")]
        if three_phase:
            fall = float(2 * pct_start * self.total_steps) - 2
            self.phases.append((fall, "max_lr", "initial_lr", "base_momentum", "max_momentum"))
            self.phases.append(
                (self.total_steps - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum")
            )
        else:
            self.phases.append(
                (self.total_steps - 1, "max_lr", "min_lr", "base_momentum", "max_momentum")
            )
        groups = optimizer.param_groups
        if last_epoch == -1:
            for group, peak in zip(groups, per_group(max_lr, groups, "max_lr"), strict=True):
                group["initial_lr"] = peak / div_factor
                group["max_lr"] = peak
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.use_beta1 = "betas" in optimizer.defaults
            if not self.use_beta1 and "momentum" not in optimizer.defaults:
                raise ValueError(
                    "OneCycleLR: the optimizer has no momentum or beta1 to cycle; pass "
                    "cycle_momentum=False"
                )
            if last_epoch == -1:
                lows = per_group(base_momentum, groups, "base_momentum")
                highs = per_group(max_momentum, groups, "max_momentum")
                for group, low, high in zip(groups, lows, highs, strict=True):
                    group["base_momentum"], group["max_momentum"] = low, high
                    self._set_momentum(group, high)
        super().__init__(optimizer, last_epoch)

    def _phase_at(self, step: int) -> tuple:
        """(phase, fraction of it done) at ``step``."""
        if step > self.total_steps:
            raise ValueError(
                f"OneCycleLR: tried to step {step} times; the cycle has {self.total_steps} "
                "steps (make a new scheduler for another cycle)"
            )
        start = 0.0
        for k, phase in enumerate(self.phases):
            end = phase[0]
            if step <= end or k == len(self.phases) - 1:
                return phase, (step - start) / (end - start)
            start = end
        raise AssertionError("unreachable: the last phase takes every remaining step")

    def lr_at(self, base_lr, epoch, group):
        (_, lr_from, lr_to, _, _), done = self._phase_at(epoch)
        settings = self.optimizer.param_groups[group]
        return self.anneal(settings[lr_from], settings[lr_to], done)

    def step(self, epoch: int | None = None) -> None:
        super().step(epoch)
        if self.cycle_momentum:
            (_, _, _, m_from, m_to), done = self._phase_at(self.last_epoch)
            for group in self.optimizer.param_groups:
                self._set_momentum(group, self.anneal(group[m_from], group[m_to], done))

    def _set_momentum(self, group: dict, value: float) -> None:
        if self.use_beta1:
            group["betas"] = (value, *group["betas"][1:])
        else:
            group["momentum"] = value


def _cycle_length(total_steps, epochs, steps_per_epoch) -> int:
    if total_steps is not None:
        if not isinstance(total_steps, int) or total_steps <= 0:
            raise ValueError(f"total_steps must be a positive int, got {total_steps!r}")
        return total_steps
    if not all(isinstance(v, int) and v > 0 for v in (epochs, steps_per_epoch)):
        raise ValueError(
            "OneCycleLR needs total_steps, or epochs and steps_per_epoch (positive ints); got "
            f"epochs={epochs!r}, steps_per_epoch={steps_per_epoch!r}"
        )
    return epochs * steps_per_epoch
