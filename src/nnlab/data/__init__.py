"""Real datasets available offline (images, a Shakespeare excerpt), file readers, image
augmentation and generated sequence tasks.

Nothing here downloads at run time, and no file is ever unpickled: IDX and CIFAR-10 binary
files are parsed byte by byte, with their declared sizes checked before allocating.
"""

from nnlab.data.augment import AugmentedBatches, ImageAugmenter
from nnlab.data.cifar import CIFAR10_CLASSES, load_cifar10, read_cifar10_binary
from nnlab.data.datasets import (
    FASHION_MNIST_CLASSES,
    fashion_mnist_available,
    load_digits_images,
    load_fashion_mnist,
)
from nnlab.data.forecasting import (
    RelativeForecaster,
    direct_forecast,
    forecast_errors,
    horizon_rmse,
    naive_forecast,
    recursive_forecast,
    seasonal_naive_forecast,
    timestep_importance,
)
from nnlab.data.idx import read_idx, write_idx
from nnlab.data.loader import DataLoader
from nnlab.data.seq2seq_tasks import (
    Seq2SeqData,
    Vocabulary,
    classification_task,
    date_task,
    reversal_task,
    sorting_task,
)
from nnlab.data.sequence_tasks import adding_problem, copy_task
from nnlab.data.text import (
    SHAKESPEARE_PLAYS,
    CharVocabulary,
    char_windows,
    load_shakespeare,
    train_val_split,
)
from nnlab.data.timeseries import (
    AIRLINE_PASSENGERS,
    SeriesScaler,
    airline_passengers,
    chronological_split,
    make_windows,
    relative_to_last,
    synthetic_seed_series,
)

__all__ = [
    "AIRLINE_PASSENGERS",
    "AugmentedBatches",
    "CIFAR10_CLASSES",
    "CharVocabulary",
    "DataLoader",
    "FASHION_MNIST_CLASSES",
    "ImageAugmenter",
    "RelativeForecaster",
    "SHAKESPEARE_PLAYS",
    "Seq2SeqData",
    "SeriesScaler",
    "Vocabulary",
    "adding_problem",
    "airline_passengers",
    "char_windows",
    "chronological_split",
    "classification_task",
    "copy_task",
    "date_task",
    "direct_forecast",
    "fashion_mnist_available",
    "forecast_errors",
    "horizon_rmse",
    "load_cifar10",
    "load_digits_images",
    "load_fashion_mnist",
    "load_shakespeare",
    "make_windows",
    "naive_forecast",
    "read_cifar10_binary",
    "read_idx",
    "recursive_forecast",
    "relative_to_last",
    "reversal_task",
    "seasonal_naive_forecast",
    "sorting_task",
    "synthetic_seed_series",
    "timestep_importance",
    "train_val_split",
    "write_idx",
]
