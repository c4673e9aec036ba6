"""What the MLP experiments share: seeding, the Keras-style MLP they all train, accuracy from
predicted probabilities, and the plain-text tables they print.

Every experiment draws all of its randomness from the seed it is given: ``seed_everything``
reseeds the library Generator (weight initialisation), ``mlp`` gives the model its own
shuffling Generator and each Dropout its own mask Generator, so a rerun with the same seed on
the same machine and thread count prints the same numbers.
"""

import functools
import math
from pathlib import Path

import numpy as np

import nnlab
from nnlab import losses
from nnlab.layers import Dense, Dropout
from nnlab.training import Sequential


def seed_everything(seed: int) -> None:
    """Reseed the library-wide Generator that layers draw their initial weights from."""
    nnlab.manual_seed(seed)


def one_blas_thread(function):
    """Decorator: run ``function`` with the BLAS library limited to one thread.

    The experiments multiply small matrices (a batch of 32 by at most 256 features). OpenBLAS
    still splits such products over its threads, and on a machine whose cores are busy the
    threads wait for each other: 10 epochs of the [64, 256, 128, 64, 10] digits network took
    28 s of CPU with OpenBLAS's 2 threads against 0.3 s with one. One thread is also the same
    on every machine, so results do not depend on the core count.
    """

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        from threadpoolctl import threadpool_limits  # installed with scikit-learn

        with threadpool_limits(limits=1, user_api="blas"):
            return function(*args, **kwargs)

    return wrapper


def split_and_scale(x, y, test_size=0.2, random_state=42, stratify=None):
    """The seeds' 80/20 split (random_state 42), x standardised with the TRAINING split's
    statistics only (the seeds fit their scalers before splitting).

    Returns (x_train, x_test, y_train, y_test)."""
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=test_size, random_state=random_state, stratify=stratify
    )
    scaler = StandardScaler().fit(x_train)
    return scaler.transform(x_train), scaler.transform(x_test), y_train, y_test


def output_dir(out_dir) -> Path:
    """``out_dir`` as a Path, created if missing."""
    path = Path(out_dir)
    path.mkdir(parents=True, exist_ok=True)
    return path


def mlp(
    hidden,
    outputs: int,
    *,
    seed: int,
    activation="relu",
    output_activation="softmax",
    kernel_initializer="glorot_uniform",
    kernel_regularizer=None,
    dropout: float = 0.0,
    name=None,
) -> Sequential:
    """A Sequential of Dense layers: ``hidden`` units with ``activation`` (each followed by
    Dropout when ``dropout`` > 0), then ``outputs`` units with ``output_activation``.

    The weights come from the library Generator as reseeded by ``seed_everything(seed)``; the
    model shuffles with its own Generator and each Dropout masks with its own, all from ``seed``.
    """
    seed_everything(seed)
    dense = dict(kernel_initializer=kernel_initializer, kernel_regularizer=kernel_regularizer)
    layers = []
    for i, units in enumerate(hidden):
        layers.append(Dense(units, activation=activation, **dense))
        if dropout:
            layers.append(Dropout(dropout, seed=seed * 1000 + i + 1))
    layers.append(Dense(outputs, activation=output_activation, **dense))
    return Sequential(layers, name=name, seed=seed)


def logits_loss(outputs: int):
    """The fused loss for a network whose last Dense layer has no activation (logits):
    softmax + cross-entropy against integer labels for several outputs, sigmoid + binary
    cross-entropy for one.

    In exact arithmetic this is a softmax/sigmoid output layer followed by the cross-entropy,
    and its gradient with respect to the logits is the seeds' ``dz = output - y``; computed as
    one fused op it is cheaper and never saturates. ``predict_proba`` still returns
    probabilities (the model applies softmax/sigmoid for a ``from_logits`` loss).
    """
    if outputs > 1:
        return losses.SparseCategoricalCrossentropy(from_logits=True)
    return losses.BinaryCrossentropy(from_logits=True)


def predicted_labels(probabilities: np.ndarray) -> np.ndarray:
    """Class labels from (N, C) probabilities (argmax) or one sigmoid column (p > 0.5; NaN,
    the output of a diverged network, counts as class 0)."""
    probabilities = np.asarray(probabilities)
    if probabilities.ndim == 2 and probabilities.shape[1] > 1:
        return probabilities.argmax(axis=1)
    return (probabilities.reshape(-1) > 0.5).astype(np.int64)


def accuracy(model, x, y) -> float:
    """Fraction of ``x`` whose predicted class (model in inference mode) equals ``y``."""
    return float(np.mean(predicted_labels(model.predict_proba(x)) == np.asarray(y).reshape(-1)))


def mean_sd(values) -> str:
    """'0.9150 ± 0.0090' over runs (the sample standard deviation, as the seeds' table)."""
    values = np.asarray(values, dtype=float)
    if len(values) == 1:
        return f"{values[0]:.4f}"
    return f"{values.mean():.4f} ± {values.std(ddof=1):.4f}"


def fmt(value) -> str:
    """A number to four decimals, or the text as it is."""
    if isinstance(value, float | np.floating):
        return "nan" if math.isnan(value) else f"{value:.4f}"
    return str(value)


def table(title: str, header, rows) -> str:
    """A plain-text table: ``title``, a header row and left-aligned columns."""
    rows = [[fmt(v) for v in row] for row in rows]
    widths = [max(len(str(h)), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    line = "  ".join("-" * w for w in widths)
    out = [title, "  ".join(f"{h:<{w}}" for h, w in zip(header, widths, strict=True)), line]
    out += ["  ".join(f"{v:<{w}}" for v, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(out)


def summary_row(experiment: str, ours, seed_result: str, note: str = "") -> dict:
    """One line of the cross-experiment summary: our measurement next to the seed's."""
    return {"experiment": experiment, "ours": fmt(ours), "seed": seed_result, "note": note}
