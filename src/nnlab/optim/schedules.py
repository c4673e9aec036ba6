"""Learning-rate schedules as pure functions: (initial lr, step) -> lr, no state.

The scheduler objects of ``nnlab.optim.lr_scheduler`` and the Keras-style callbacks are
built on these; they also serve hand-written loops directly.
"""

import bisect
import math


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


def cosine_between(start: float, end: float, done: float) -> float:
    """From ``start`` (done = 0) to ``end`` (done = 1) along half a cosine."""
    return end + (start - end) / 2.0 * (math.cos(math.pi * done) + 1)


def linear_between(start: float, end: float, done: float) -> float:
    """From ``start`` (done = 0) to ``end`` (done = 1) along a straight line."""
    return (end - start) * done + start


def per_group(value, groups, name: str) -> list:
    """A scheduler argument given for all parameter groups (one number) or per group (a
    list/tuple of that length), as one value per group."""
    if isinstance(value, list | tuple):
        if len(value) != len(groups):
            raise ValueError(f"expected {len(groups)} values of {name}, one per group, got {value}")
        return [float(v) for v in value]
    return [float(value)] * len(groups)
