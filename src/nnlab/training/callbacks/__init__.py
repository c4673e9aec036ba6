"""Keras-style callbacks: hooks that ``fit``, ``evaluate`` and ``predict`` call in Keras order.

``fit`` calls ``on_train_begin``; per epoch ``on_epoch_begin``, per batch
``on_train_batch_begin``/``on_train_batch_end`` (logs: running means so far in the epoch),
then the validation pass's ``on_test_*`` hooks and ``on_epoch_end`` (logs: 'loss', metrics,
'val_' versions, 'learning_rate'); finally ``on_train_end``. A callback stops training by
setting ``self.model.stop_training = True``.

EarlyStopping, ModelCheckpoint and ReduceLROnPlateau share one base, ``MonitorCallback``, so
they agree on what "better" means for a logged value.
"""

from nnlab.training.callbacks.base import Callback, History, LambdaCallback
from nnlab.training.callbacks.callback_list import CallbackList
from nnlab.training.callbacks.csv_logger import CSVLogger
from nnlab.training.callbacks.lr_scheduler import LearningRateScheduler
from nnlab.training.callbacks.monitor import (
    EarlyStopping,
    ModelCheckpoint,
    MonitorCallback,
    ReduceLROnPlateau,
)
from nnlab.training.callbacks.progress import ProgressBar, format_logs
from nnlab.training.callbacks.terminate_on_nan import TerminateOnNaN

__all__ = [
    "CSVLogger",
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "MonitorCallback",
    "ProgressBar",
    "ReduceLROnPlateau",
    "TerminateOnNaN",
    "format_logs",
]
