"""TerminateOnNaN: stop training at the first batch whose loss is NaN or infinite."""

import math

from nnlab.training.callbacks.base import Callback, say


class TerminateOnNaN(Callback):
    """Stop training as soon as a batch's loss is NaN or infinite.

    Args:
        raise_error: raise RuntimeError instead of setting ``model.stop_training``.
    """

    def __init__(self, raise_error=False):
        super().__init__()
        self.raise_error = raise_error
        self._epoch, self._last_finite = 0, None

    def on_train_begin(self, logs=None):
        self._epoch, self._last_finite = 0, None

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None:
            return
        loss = float(loss)
        if math.isfinite(loss):
            self._last_finite = loss
            return
        message = self._message(batch, loss)
        if self.raise_error:
            raise RuntimeError(message)
        say(message)
        self.model.stop_training = True

    def _message(self, batch: int, loss: float) -> str:
        steps = self.params.get("steps")
        where = f"Epoch {self._epoch + 1}, batch {batch + 1}" + (f"/{steps}" if steps else "")
        lr = getattr(getattr(self.model, "optimizer", None), "lr", None)
        return (
            f"{where}: invalid loss {loss}, terminating training (last finite loss: "
            f"{self._last_finite}, learning rate: {lr}). Usual causes: a learning rate too "
            "high, log(0) in the loss (use from_logits=True losses), exploding gradients "
            "(set clipnorm)."
        )
