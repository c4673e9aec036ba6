"""Callbacks that watch one logged value: the shared MonitorCallback base, EarlyStopping,
ReduceLROnPlateau and ModelCheckpoint (they agree on what "better" means)."""

import math
import os
import warnings

import numpy as np

from nnlab.training.callbacks.base import Callback, as_number, current_lr, say

# ---- monitoring callbacks -------------------------------------------------------------------

_HIGHER_IS_BETTER = ("acc", "auc", "precision", "recall", "f1")


class MonitorCallback(Callback):
    """Base of the callbacks that watch one logged value: what "better" means for it.

    Args:
        monitor: the logs key to watch ('val_loss', 'accuracy', ...).
        mode: 'min', 'max' or 'auto' (max for names containing 'acc', 'auc', 'precision',
            'recall' or 'f1', unless they end in 'loss'; min otherwise).
        min_delta: how much a value must beat the best one to count as an improvement.
        baseline: a value the monitored quantity must beat (used by EarlyStopping).
    """

    def __init__(self, monitor="val_loss", mode="auto", min_delta=0.0, baseline=None):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            raise ValueError(
                f"{type(self).__name__} mode must be 'auto', 'min' or 'max', got {mode!r}"
            )
        self.monitor, self.mode = monitor, mode
        self.min_delta = abs(float(min_delta))
        self.baseline = baseline
        self.best = None

    @property
    def direction(self) -> str:
        """'min' or 'max': which way the monitored value improves."""
        if self.mode != "auto":
            return self.mode
        name = self.monitor.lower()
        if not name.endswith("loss") and any(word in name for word in _HIGHER_IS_BETTER):
            return "max"
        return "min"

    def _is_improvement(self, value, reference) -> bool:
        """True when ``value`` beats ``reference`` by more than ``min_delta`` (any number beats
        None; NaN never improves)."""
        if value is None or math.isnan(value):
            return False
        if reference is None:
            return True
        if self.direction == "min":
            return value < reference - self.min_delta
        return value > reference + self.min_delta

    def get_monitor_value(self, logs):
        """The monitored value as a float; None, with a warning listing the keys, if absent."""
        logs = logs or {}
        value = logs.get(self.monitor)
        if value is None:
            warnings.warn(
                f"{type(self).__name__} is monitoring {self.monitor!r}, which is not in the "
                f"logs; available keys: {', '.join(logs) or '(none)'}",
                UserWarning,
                stacklevel=3,
            )
            return None
        return float(value)

    def _best_text(self) -> str:
        if self.best is not None:
            return f"{self.best:.5f}"
        return "inf" if self.direction == "min" else "-inf"


def _copy_state(state: dict) -> dict:
    # Copied so later in-place optimizer steps cannot change the remembered weights.
    return {key: np.array(value, copy=True) for key, value in state.items()}


class EarlyStopping(MonitorCallback):
    """Stop training when the monitored value has not improved for ``patience`` epochs.

    With ``restore_best_weights`` the model gets the weights of its best epoch back in
    ``on_train_end``, whatever ended training: this callback, another one (TerminateOnNaN),
    or the last epoch.

    Args:
        monitor: the logs key to watch.
        min_delta: smallest change that counts as an improvement.
        patience: epochs without improvement before stopping (0: stop at the first).
        verbose: 1 prints when it stops and which epoch's weights it restores.
        mode: 'auto', 'min' or 'max' (see MonitorCallback).
        baseline: training also stops after ``patience`` epochs that do not beat this value.
        restore_best_weights: restore the best epoch's weights at the end of training.
        start_from_epoch: epochs to let pass before watching (warm-up).

    Attributes:
        best, best_epoch (0-based), stopped_epoch (0-based; 0 if it never stopped training),
        wait (epochs since the last improvement).
    """

    def __init__(
        self,
        monitor="val_loss",
        min_delta=0,
        patience=0,
        verbose=0,
        mode="auto",
        baseline=None,
        restore_best_weights=False,
        start_from_epoch=0,
    ):
        super().__init__(monitor, mode, min_delta, baseline)
        self.patience, self.verbose = int(patience), int(verbose)
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = int(start_from_epoch)
        self.on_train_begin()

    def on_train_begin(self, logs=None):
        self.wait, self.stopped_epoch, self.best_epoch = 0, 0, 0
        self.best, self.best_weights, self._stopped = None, None, False

    def on_epoch_end(self, epoch, logs=None):
        current = self.get_monitor_value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best, self.best_epoch = current, epoch
            self._remember_weights()
            # The wait only restarts when the value also beats the baseline.
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
        elif self.restore_best_weights and self.best_weights is None:
            # Nothing better seen yet (the first values were NaN): the current weights are
            # the best known ones.
            self.best_epoch = epoch
            self._remember_weights()
        if self.wait > 0 and self.wait >= self.patience:
            self.stopped_epoch, self._stopped = epoch, True
            self.model.stop_training = True

    def _remember_weights(self) -> None:
        if self.restore_best_weights:
            self.best_weights = _copy_state(self.model.state_dict())

    def on_train_end(self, logs=None):
        if self._stopped and self.verbose:
            say(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose:
                say(
                    f"Restoring model weights from the end of the best epoch: "
                    f"{self.best_epoch + 1}."
                )
            self.model.load_state_dict(self.best_weights)


class ReduceLROnPlateau(MonitorCallback):
    """Multiply the learning rate by ``factor`` when the monitored value stops improving.

    Args:
        monitor: the logs key to watch.
        factor: the multiplier, in (0, 1).
        patience: epochs without improvement before reducing.
        verbose: 1 prints each reduction.
        mode: 'auto', 'min' or 'max' (see MonitorCallback).
        min_delta: smallest change that counts as an improvement.
        cooldown: epochs after a reduction in which epochs without improvement are not
            counted. Exactly ``cooldown`` epochs, as PyTorch's ReduceLROnPlateau: Keras 3
            skips one fewer, so there ``cooldown=1`` has no effect.
        min_lr: the learning rate never goes below this.
    """

    def __init__(
        self,
        monitor="val_loss",
        factor=0.1,
        patience=10,
        verbose=0,
        mode="auto",
        min_delta=1e-4,
        cooldown=0,
        min_lr=0.0,
    ):
        super().__init__(monitor, mode, min_delta)
        if not 0.0 < factor < 1.0:
            raise ValueError(f"ReduceLROnPlateau needs 0 < factor < 1, got factor={factor}")
        self.factor, self.patience, self.verbose = float(factor), int(patience), int(verbose)
        self.cooldown, self.min_lr = int(cooldown), float(min_lr)
        self.on_train_begin()

    def on_train_begin(self, logs=None):
        self.wait, self.cooldown_counter, self.best = 0, 0, None

    def on_epoch_end(self, epoch, logs=None):
        current = self.get_monitor_value(logs)
        if current is None:
            return
        in_cooldown = self.cooldown_counter > 0
        if in_cooldown:
            self.cooldown_counter -= 1
        if self._is_improvement(current, self.best):
            self.best, self.wait = current, 0
        elif not in_cooldown:
            self.wait += 1
            if self.wait >= self.patience:
                self._reduce(epoch)

    def _reduce(self, epoch: int) -> None:
        old = current_lr(self.model, "ReduceLROnPlateau")
        if old <= self.min_lr:
            return
        new = max(old * self.factor, self.min_lr)
        self.model.optimizer.lr = new
        if self.verbose:
            say(f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new:.4g}.")
        self.cooldown_counter, self.wait = self.cooldown, 0


class ModelCheckpoint(MonitorCallback):
    """Save the model (``model.save``) or its weights (``model.save_weights``) during training.

    Args:
        filepath: where to save; may hold format fields filled from the logs, such as
            ``'ckpt-{epoch:02d}-{val_loss:.2f}.weights'`` (``epoch`` 1-based; ``batch``,
            1-based, when saving every few batches). Missing folders are created.
        monitor: the logs key compared when ``save_best_only``.
        verbose: 1 prints each save (and each skipped one with ``save_best_only``).
        save_best_only: save only when the monitored value improves on the best so far.
        save_weights_only: call ``model.save_weights`` instead of ``model.save``.
        mode: 'auto', 'min' or 'max' (see MonitorCallback).
        save_freq: 'epoch', or an int: save after every that many training batches.
        initial_value_threshold: the value to beat for the first save with
            ``save_best_only``. The best value is kept across ``fit`` calls, as in Keras.
    """

    def __init__(
        self,
        filepath,
        monitor="val_loss",
        verbose=0,
        save_best_only=False,
        save_weights_only=False,
        mode="auto",
        save_freq="epoch",
        initial_value_threshold=None,
    ):
        super().__init__(monitor, mode)
        if save_freq != "epoch" and not (isinstance(save_freq, int) and save_freq > 0):
            raise ValueError(f"save_freq must be 'epoch' or a positive int, got {save_freq!r}")
        self.filepath, self.verbose = os.fspath(filepath), int(verbose)
        self.save_best_only, self.save_weights_only = save_best_only, save_weights_only
        self.save_freq = save_freq
        self.best = initial_value_threshold
        self._epoch, self._batches_seen = 0, 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        self._batches_seen += 1
        if self._batches_seen >= self.save_freq:
            self._batches_seen = 0
            self._save(self._epoch, batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save(epoch, None, logs)

    def _save(self, epoch: int, batch, logs) -> None:
        logs = logs or {}
        path = self._path(epoch, batch, logs)
        if self.save_best_only:
            current = self.get_monitor_value(logs)
            if current is None:
                return
            if not self._is_improvement(current, self.best):
                if self.verbose:
                    say(
                        f"Epoch {epoch + 1}: {self.monitor} did not improve from "
                        f"{self._best_text()}"
                    )
                return
            if self.verbose:
                say(
                    f"Epoch {epoch + 1}: {self.monitor} improved from {self._best_text()} "
                    f"to {current:.5f}, saving model to {path}"
                )
            self.best = current
        elif self.verbose:
            say(f"Epoch {epoch + 1}: saving model to {path}")
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        (self.model.save_weights if self.save_weights_only else self.model.save)(path)

    def _path(self, epoch: int, batch, logs: dict) -> str:
        fields = {key: as_number(value) for key, value in logs.items()}
        fields["epoch"] = epoch + 1
        if batch is not None:
            fields["batch"] = batch + 1
        try:
            return self.filepath.format(**fields)
        except (KeyError, IndexError, ValueError) as error:
            raise ValueError(
                f"cannot fill in the ModelCheckpoint filepath {self.filepath!r}: {error!r}; "
                f"the fields available are {', '.join(fields)}"
            ) from None
