"""The Callback base class (every hook a no-op), History and LambdaCallback."""

import numbers
import sys

import numpy as np

_HOOKS = (
    "on_train_begin",
    "on_train_end",
    "on_epoch_begin",
    "on_epoch_end",
    "on_train_batch_begin",
    "on_train_batch_end",
    "on_batch_begin",
    "on_batch_end",
    "on_test_begin",
    "on_test_end",
    "on_test_batch_begin",
    "on_test_batch_end",
    "on_predict_begin",
    "on_predict_end",
    "on_predict_batch_begin",
    "on_predict_batch_end",
)


def say(message: str) -> None:
    """Messages of the callbacks go to stdout, as Keras's do, read at call time so tests and
    redirections see them."""
    print(message, file=sys.stdout, flush=True)


class Callback:
    """Base class: every hook is a no-op; override the ones you need.

    ``model`` and ``params`` ({'epochs', 'steps', 'verbose'}) are set by the loop through
    ``set_model`` and ``set_params`` before the first hook. ``on_batch_begin`` and
    ``on_batch_end`` are the old names of the training-batch hooks: the defaults of
    ``on_train_batch_begin``/``on_train_batch_end`` call them, so overriding either works.
    """

    def __init__(self):
        self.model = None
        self.params: dict = {}

    def set_model(self, model) -> None:
        self.model = model

    def set_params(self, params: dict) -> None:
        self.params = params

    def on_train_begin(self, logs=None): ...

    def on_train_end(self, logs=None): ...

    def on_epoch_begin(self, epoch, logs=None): ...

    def on_epoch_end(self, epoch, logs=None): ...

    def on_batch_begin(self, batch, logs=None): ...

    def on_batch_end(self, batch, logs=None): ...

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs)

    def on_test_begin(self, logs=None): ...

    def on_test_end(self, logs=None): ...

    def on_test_batch_begin(self, batch, logs=None): ...

    def on_test_batch_end(self, batch, logs=None): ...

    def on_predict_begin(self, logs=None): ...

    def on_predict_end(self, logs=None): ...

    def on_predict_batch_begin(self, batch, logs=None): ...

    def on_predict_batch_end(self, batch, logs=None): ...


def as_number(value):
    """A float for numbers and 0-d arrays (what logs hold); anything else unchanged."""
    if isinstance(value, numbers.Real) or (isinstance(value, np.ndarray) and value.ndim == 0):
        return float(value)
    return value


class History(Callback):
    """Records every epoch's logs: ``history[key]`` is the list of values, one per epoch, and
    ``epoch`` the epoch indices. ``fit`` returns it and sets ``model.history`` to it.

    One History given to several ``fit`` calls keeps appending to both lists, so they stay
    the same length (Keras resets ``epoch`` but not ``history``).
    """

    def __init__(self):
        super().__init__()
        self.history: dict[str, list] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs=None):
        if self.model is not None:
            self.model.history = self

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(as_number(value))


class LambdaCallback(Callback):
    """A callback made of functions, for quick one-off hooks.

    ``on_epoch_begin``/``on_epoch_end`` take ``(epoch, logs)``, ``on_batch_begin``/
    ``on_batch_end`` (training batches) take ``(batch, logs)``, ``on_train_begin``/
    ``on_train_end`` take ``(logs)``. Any other hook can be given by name as a keyword
    (``on_test_end=...``).

    Args:
        on_epoch_begin, on_epoch_end, on_batch_begin, on_batch_end, on_train_begin,
        on_train_end: the functions (None: no-op).
        **hooks: functions for other hooks, by hook name.
    """

    def __init__(
        self,
        on_epoch_begin=None,
        on_epoch_end=None,
        on_batch_begin=None,
        on_batch_end=None,
        on_train_begin=None,
        on_train_end=None,
        **hooks,
    ):
        super().__init__()
        unknown = sorted(set(hooks) - set(_HOOKS))
        if unknown:
            raise TypeError(f"LambdaCallback got unknown hooks {unknown}; hooks: {_HOOKS}")
        hooks.update(
            on_epoch_begin=on_epoch_begin,
            on_epoch_end=on_epoch_end,
            on_batch_begin=on_batch_begin,
            on_batch_end=on_batch_end,
            on_train_begin=on_train_begin,
            on_train_end=on_train_end,
        )
        for name, fn in hooks.items():
            if fn is not None:
                setattr(self, name, fn)  # an instance attribute shadows the no-op method


def current_lr(model, owner: str) -> float:
    lr = model.optimizer.lr
    if not isinstance(lr, numbers.Real):
        raise TypeError(
            f"{owner} sets optimizer.lr, but the optimizer's learning rate is "
            f"{type(lr).__name__}, not a number; use a constant learning rate with {owner}"
        )
    return float(lr)
