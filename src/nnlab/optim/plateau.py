"""ReduceLROnPlateau for hand-written loops: lower the learning rates when a metric stops
improving. (``nnlab.optim.lr_scheduler`` exports it too, where PyTorch has it.)"""

import math

from nnlab.optim.optimizer import Optimizer
from nnlab.optim.schedules import per_group


class ReduceLROnPlateau:
    """Multiply every group's lr by ``factor`` when a metric stops improving, as
    ``torch.optim.lr_scheduler.ReduceLROnPlateau`` (``step(metric)`` once per epoch; the
    Keras-style callback of the same name does this inside ``fit``).

    Args:
        optimizer: the Optimizer whose lrs it lowers.
        mode: 'min' (a loss) or 'max' (an accuracy).
        factor: the multiplier, in (0, 1).
        patience: epochs without improvement that are tolerated; the next one lowers the lr.
        threshold, threshold_mode: what counts as an improvement: beating the best by the
            fraction ``threshold`` ('rel') or by the amount ``threshold`` ('abs').
        cooldown: epochs after a reduction during which bad epochs are not counted.
        min_lr: the floor of the lr, one for all groups or one per group.
        eps: a reduction smaller than this is skipped.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        mode="min",
        factor=0.1,
        patience=10,
        threshold=1e-4,
        threshold_mode="rel",
        cooldown=0,
        min_lr=0.0,
        eps=1e-8,
    ):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"expected an nnlab Optimizer, got {type(optimizer).__name__}")
        if not 0.0 < factor < 1.0:
            raise ValueError(f"ReduceLROnPlateau needs 0 < factor < 1, got factor={factor}")
        if mode not in ("min", "max") or threshold_mode not in ("rel", "abs"):
            raise ValueError(
                f"mode must be 'min' or 'max' and threshold_mode 'rel' or 'abs', got {mode!r} "
                f"and {threshold_mode!r}"
            )
        self.optimizer, self.mode, self.threshold_mode = optimizer, mode, threshold_mode
        self.factor, self.patience, self.threshold = float(factor), int(patience), threshold
        self.cooldown, self.eps = int(cooldown), float(eps)
        self.min_lrs = per_group(min_lr, optimizer.param_groups, "min_lr")
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = self.cooldown_counter = self.last_epoch = 0
        self._last_lr = [group["lr"] for group in optimizer.param_groups]

    def is_better(self, value: float, best: float) -> bool:
        """Whether ``value`` improves on ``best`` by more than the threshold (NaN never does)."""
        if self.mode == "min":
            bar = (
                best * (1 - self.threshold)
                if self.threshold_mode == "rel"
                else best - self.threshold
            )
            return value < bar
        bar = best * (1 + self.threshold) if self.threshold_mode == "rel" else best + self.threshold
        return value > bar

    def step(self, metrics) -> None:
        """Record this epoch's metric; lower the lrs once patience has run out."""
        current = float(metrics)
        self.last_epoch += 1
        if self.is_better(current, self.best):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            for group, floor in zip(self.optimizer.param_groups, self.min_lrs, strict=True):
                new = max(group["lr"] * self.factor, floor)
                if group["lr"] - new > self.eps:
                    group["lr"] = new
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list:
        """The lr of every group after the last ``step``."""
        return list(self._last_lr)

    _STATE = ("best", "num_bad_epochs", "cooldown_counter", "last_epoch", "_last_lr")

    def state_dict(self) -> dict:
        """Where the plateau count stands, as plain numbers."""
        return {key: getattr(self, key) for key in self._STATE}

    def load_state_dict(self, state: dict) -> None:
        for key in self._STATE:
            setattr(self, key, state[key])
