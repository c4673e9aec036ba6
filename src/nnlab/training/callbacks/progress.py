"""The progress display: a tqdm bar per epoch on a terminal, one line per epoch elsewhere."""

import math
import sys
import time

from nnlab.training.callbacks.base import Callback, as_number

# ---- progress display -----------------------------------------------------------------------


def _format_value(value) -> str:
    value = as_number(value)
    if not isinstance(value, float):
        return str(value)
    if value == 0 or not math.isfinite(value) or 1e-3 <= abs(value) < 1e5:
        return f"{value:.4f}"
    return f"{value:.4e}"


def format_logs(logs: dict) -> str:
    """``'loss: 0.1234 - accuracy: 0.9500'``, in the order of the logs."""
    return " - ".join(f"{key}: {_format_value(value)}" for key, value in logs.items())


def _format_duration(seconds: float) -> str:
    if seconds >= 1 or seconds == 0:
        return f"{seconds:.0f}s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms"
    return f"{seconds * 1e6:.0f}us"


class ProgressBar(Callback):
    """Progress of ``fit`` (and of ``evaluate``/``predict`` outside ``fit``), as Keras's
    ProgbarLogger.

    verbose 0 prints nothing. verbose 1 on a terminal (or in a notebook) draws a tqdm bar per
    epoch, updated each batch with the running loss and metrics; verbose 1 elsewhere and
    verbose 2 print one line per epoch, so log files get no line per step::

        Epoch 3/10 - 32/32 - 1s 20ms/step - loss: 0.2500 - accuracy: 0.9000 - val_loss: ...

    Args:
        verbose: 0, 1, 2 or 'auto' (= 1); None takes ``params['verbose']`` from the loop.
        file: where to write; default ``sys.stdout`` (read when writing).
        interactive: draw a bar (True) or print lines (False); None: a bar when ``file`` is
            a terminal or IPython is running.
    """

    def __init__(self, verbose=None, file=None, interactive=None):
        super().__init__()
        self._verbose, self._file, self._interactive = verbose, file, interactive
        self._bar = None
        self._in_fit = False
        self._label, self._start, self._steps = "", 0.0, 0

    @property
    def verbose(self) -> int:
        verbose = self._verbose if self._verbose is not None else self.params.get("verbose", 1)
        return 1 if verbose == "auto" else int(verbose)

    @property
    def file(self):
        return self._file if self._file is not None else sys.stdout

    def _draws_bar(self) -> bool:
        if self.verbose != 1:
            return False
        if self._interactive is not None:
            return self._interactive
        isatty = getattr(self.file, "isatty", None)
        return bool(isatty and isatty()) or "ipykernel" in sys.modules

    def on_train_begin(self, logs=None):
        self._in_fit = True

    def on_train_end(self, logs=None):
        self._in_fit = False
        self._close()

    def on_epoch_begin(self, epoch, logs=None):
        self._begin(f"Epoch {epoch + 1}/{self.params.get('epochs', '?')}")

    def on_train_batch_end(self, batch, logs=None):
        self._advance(batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._finish(logs)

    def on_test_begin(self, logs=None):
        if not self._in_fit:  # validation inside fit shows in the epoch line instead
            self._begin("Evaluate")

    def on_test_batch_end(self, batch, logs=None):
        if not self._in_fit:
            self._advance(batch, logs)

    def on_test_end(self, logs=None):
        if not self._in_fit:
            self._finish(logs)

    def on_predict_begin(self, logs=None):
        self._begin("Predict")

    def on_predict_batch_end(self, batch, logs=None):
        self._advance(batch, None)

    def on_predict_end(self, logs=None):
        self._finish(None)

    def _begin(self, label: str) -> None:
        self._close()
        self._label, self._start, self._steps = label, time.perf_counter(), 0
        if self.verbose and self._draws_bar():
            from tqdm.auto import tqdm  # imported here: only a drawn bar needs it

            self._bar = tqdm(
                total=self.params.get("steps"),
                desc=label,
                file=self.file,
                unit="step",
                leave=True,
                dynamic_ncols=True,
                mininterval=0.1,
            )

    def _advance(self, batch: int, logs) -> None:
        self._steps = batch + 1
        if self._bar is not None:
            if logs:
                self._bar.set_postfix_str(format_logs(logs), refresh=False)
            self._bar.update(self._steps - self._bar.n)

    def _finish(self, logs) -> None:
        if not self.verbose:
            return
        elapsed = time.perf_counter() - self._start
        if self._bar is not None:
            self._bar.set_postfix_str(format_logs(logs or {}), refresh=False)
            self._close()
            return
        total = self.params.get("steps")
        steps = f"{self._steps}/{total}" if total else f"{self._steps} steps"
        timing = _format_duration(elapsed)
        if self._steps:
            timing += f" {_format_duration(elapsed / self._steps)}/step"
        parts = [self._label, steps, timing] + ([format_logs(logs)] if logs else [])
        print(" - ".join(parts), file=self.file, flush=True)

    def _close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
