"""Learning-rate schedules: pure functions of the step, and PyTorch-style scheduler objects.

The pure functions map (initial lr, step) to a learning rate and hold no state. A scheduler
object wraps an optimizer: each ``step()`` advances its counter ``last_epoch`` and sets every
parameter group's ``lr`` to the schedule's value for that count, starting from the group's
``initial_lr``. Whether a "step" is a batch or an epoch is up to whoever calls ``step()``.

PyTorch computes most schedules recursively from the current lr; here they are closed forms,
which give the same sequence when a scheduler is used alone (the parity tests check this) but
override, rather than compose with, outside changes to the lr.
"""

import bisect
import functools
import math

from nnlab.optim.optimizer import Optimizer


# ---- pure schedules ---------------------------------------------------------------------------
def step_decay(initial_lr: float, step: int, drop_every: int, factor: float = 0.1) -> float:
    """``initial_lr * factor ** (step // drop_every)`` (PyTorch ``StepLR``)."""
    return initial_lr * factor ** (step // drop_every)


def multistep_decay(initial_lr: float, step: int, milestones, factor: float = 0.1) -> float:
    """``initial_lr`` times ``factor`` once for every milestone reached (``MultiStepLR``)."""
    return initial_lr * factor ** bisect.bisect_right(sorted(milestones), step)


def exponential_decay(
    initial_lr: float, step: int, decay_rate: float, decay_steps: int = 1, staircase: bool = False
) -> float:
    """``initial_lr * decay_rate ** (step / decay_steps)``; ``staircase`` floors the exponent.

    ``decay_steps=1`` is PyTorch's ``ExponentialLR(gamma=decay_rate)``; the rest is Keras's
    ``ExponentialDecay``.
    """
    exponent = step // decay_steps if staircase else step / decay_steps
    return initial_lr * decay_rate**exponent


def cosine_decay(
    initial_lr: float, step: int, decay_steps: int, min_lr: float = 0.0, clamp: bool = True
) -> float:
    """Half a cosine from ``initial_lr`` down to ``min_lr`` over ``decay_steps`` steps::

        min_lr + (initial_lr - min_lr) * (1 + cos(pi * step / decay_steps)) / 2

    Args:
        clamp: hold ``min_lr`` after ``decay_steps`` (Keras ``CosineDecay``). False lets the
            cosine rise again (PyTorch ``CosineAnnealingLR`` past ``T_max``).
    """
    if clamp:
        step = min(step, decay_steps)
    return min_lr + (initial_lr - min_lr) * (1 + math.cos(math.pi * step / decay_steps)) / 2


def linear_schedule(
    initial_lr: float, step: int, start_factor: float, end_factor: float, total_steps: int
) -> float:
    """``initial_lr`` times a factor moving linearly from ``start_factor`` to ``end_factor``
    over ``total_steps`` steps, then held (PyTorch ``LinearLR``)."""
    progress = min(step, total_steps) / total_steps if total_steps > 0 else 1.0
    return initial_lr * (start_factor + (end_factor - start_factor) * progress)


def linear_warmup(schedule, warmup_steps: int, start_factor: float = 0.0):
    """Wrap ``schedule`` (a function step -> lr) with a linear warmup.

    For ``step < warmup_steps`` the lr rises linearly from ``start_factor * schedule(0)`` to
    ``schedule(0)``; afterwards it is ``schedule(step - warmup_steps)``, so the wrapped
    schedule starts where the warmup ends.
    """
    if warmup_steps < 0:
        raise ValueError(f"warmup_steps must be >= 0, got {warmup_steps}")

    def warmed_up(step: int) -> float:
        if step < warmup_steps:
            return schedule(0) * (start_factor + (1 - start_factor) * step / warmup_steps)
        return schedule(step - warmup_steps)

    return warmed_up


# ---- scheduler objects ------------------------------------------------------------------------
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
