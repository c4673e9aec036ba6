"""LearningRateScheduler: set the learning rate from ``schedule(epoch, lr)`` each epoch."""

import inspect
import math
import numbers

from nnlab.training.callbacks.base import Callback, current_lr, say


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of each epoch to ``schedule(epoch, lr)``.

    Args:
        schedule: ``schedule(epoch, lr) -> new lr`` (epoch 0-based; ``lr`` the current rate).
            A one-argument ``schedule(epoch)`` works too.
        verbose: 1 prints the rate each epoch.
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule, self.verbose = schedule, int(verbose)
        self._takes_lr = _positional_arity(schedule) >= 2

    def on_epoch_begin(self, epoch, logs=None):
        lr = current_lr(self.model, "LearningRateScheduler")
        new = self.schedule(epoch, lr) if self._takes_lr else self.schedule(epoch)
        if not _is_learning_rate(new):
            raise ValueError(
                f"the LearningRateScheduler schedule must return a finite number >= 0, got "
                f"{new!r} for epoch {epoch}"
            )
        self.model.optimizer.lr = float(new)
        if self.verbose:
            say(f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to {new}.")


def _is_learning_rate(value) -> bool:
    """A finite number >= 0 (bools are numbers to Python, but not learning rates)."""
    real = isinstance(value, numbers.Real) and not isinstance(value, bool)
    return real and math.isfinite(value) and value >= 0


def _positional_arity(fn) -> int:
    """How many positional arguments ``fn`` takes (2 when it cannot be told, e.g. builtins)."""
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return 2
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    if any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in parameters):
        return 2
    return sum(p.kind in kinds for p in parameters)
