"""The seeds' figures: training curves, decision boundaries, confusion matrices, sample
predictions, activation functions with their derivatives, and architecture comparisons.

Every function builds a ``matplotlib.figure.Figure`` directly, never through pyplot, so it
works headless (no GUI backend, no global figure state) and in notebooks (a returned Figure
displays itself). Each returns the Figure and saves it when given ``path``. matplotlib is
imported inside the functions so that ``import nnlab`` stays fast.
"""

import math
from pathlib import Path

import numpy as np

from nnlab.autograd import Tensor
from nnlab.evaluation import predict_outputs, split_outputs

DEFAULT_ACTIVATIONS = (
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    "elu",
    "selu",
    "gelu",
    "softplus",
    "silu",
)

_NOT_METRICS = ("learning_rate", "lr")


def _figure(n_panels: int, panel_size=(4.5, 3.5), max_cols: int = 3):
    """A constrained-layout Figure with ``n_panels`` axes on a grid at most ``max_cols`` wide."""
    from matplotlib.figure import Figure

    cols = min(n_panels, max_cols)
    rows = math.ceil(n_panels / cols)
    fig = Figure(figsize=(panel_size[0] * cols, panel_size[1] * rows), layout="constrained")
    axes = [fig.add_subplot(rows, cols, i + 1) for i in range(n_panels)]
    return fig, axes


def _finish(fig, path):
    """Save ``fig`` to ``path`` (parent folders created) when a path is given; return it."""
    if path is not None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=100)
    return fig


def _title(name: str) -> str:
    return name.replace("_", " ").capitalize()


# ---- training history -------------------------------------------------------------------------


def plot_history(history, metrics=None, path=None):
    """Training curves: one panel per metric, the training and ``val_`` values per epoch.

    Args:
        history: a Keras-style History (its ``.history`` dict) or the dict itself, mapping
            names such as 'loss', 'accuracy', 'val_loss' to one value per epoch.
        metrics: names to plot (without 'val_'); default: every logged metric, loss first
            (not the learning rate).
        path: optional file to save the figure to.

    Returns:
        The Figure.
    """
    logs = getattr(history, "history", history)
    if metrics is None:
        # the learning rate is logged per epoch but is a setting, not a result: plot on request
        metrics = [k for k in logs if not k.startswith("val_") and k not in _NOT_METRICS]
        metrics.sort(key=lambda k: k != "loss")  # stable: loss first, others in fit's order
    missing = [m for m in metrics if m not in logs and "val_" + m not in logs]
    if not metrics or missing:
        raise ValueError(f"history has no values for {missing or 'any metric'}; has {list(logs)}")
    from matplotlib.ticker import MaxNLocator

    fig, axes = _figure(len(metrics))
    for ax, name in zip(axes, metrics, strict=True):
        for key, label in ((name, "train"), ("val_" + name, "validation")):
            if key in logs:
                values = np.asarray(logs[key], dtype=float)
                ax.plot(np.arange(1, len(values) + 1), values, marker=".", label=label)
        ax.set(title=f"Model {_title(name).lower()}", xlabel="Epoch", ylabel=_title(name))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
        ax.grid(True, alpha=0.3)
        ax.legend()
    return _finish(fig, path)


# ---- decision boundary ------------------------------------------------------------------------


def decision_grid(X, resolution: int = 200, padding: float = 0.1):
    """The grid a decision boundary is drawn on: the data's bounding box, widened by
    ``padding`` times its size on each side.

    Args:
        X: (N, 2) points.
        resolution: grid points along each axis.
        padding: margin as a fraction of the data's range.

    Returns:
        ``(xx, yy)``, each (resolution, resolution), as from ``np.meshgrid``.
    """
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"a decision boundary needs 2-D points of shape (N, 2), got {X.shape}")
    low, high = X.min(axis=0), X.max(axis=0)
    margin = padding * np.maximum(high - low, 1e-12) + (high == low)  # a flat axis still spans
    axes = [
        np.linspace(lo, hi, resolution) for lo, hi in zip(low - margin, high + margin, strict=True)
    ]
    return np.meshgrid(*axes)


def plot_decision_boundary(model_or_fn, X, y, path=None, resolution: int = 200, title=None):
    """The regions a 2-D classifier assigns to each class, with the data on top.

    Binary models (one sigmoid output, or two probability columns) get the probability of
    class 1 as a colour map and the 0.5 contour; multi-class models, and models that return
    labels, get the predicted-class regions.

    Args:
        model_or_fn: an object with ``predict_proba``/``predict``, or a callable, taking (M, 2)
            points (``nnlab.evaluation.split_outputs`` lists the outputs understood).
        X: (N, 2) points.
        y: (N,) integer labels.
        path: optional file to save the figure to.
        resolution: grid points along each axis.
        title: the axes title (default 'Decision boundary').

    Returns:
        The Figure.
    """
    X, y = np.asarray(X), np.asarray(y).reshape(-1)
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} points but y has {len(y)} labels")
    xx, yy = decision_grid(X, resolution)
    grid = np.column_stack([xx.ravel(), yy.ravel()]).astype(X.dtype, copy=False)
    probabilities, labels = split_outputs(predict_outputs(model_or_fn, grid, batch_size=8192))
    fig, (ax,) = _figure(1, panel_size=(6, 5))
    if probabilities is not None and probabilities.shape[1] == 2:
        surface = probabilities[:, 1].reshape(xx.shape)
        mesh = ax.pcolormesh(xx, yy, surface, cmap="RdBu_r", vmin=0, vmax=1, shading="auto")
        ax.contour(xx, yy, surface, levels=[0.5], colors="black", linewidths=1.5)
        fig.colorbar(mesh, ax=ax, label="P(class 1)")
        colours = {"cmap": "RdBu_r", "vmin": 0, "vmax": 1}
    else:
        n_classes = probabilities.shape[1] if probabilities is not None else labels.max() + 1
        colours = _class_colours(max(n_classes, y.max() + 1))
        ax.pcolormesh(xx, yy, labels.reshape(xx.shape), alpha=0.4, shading="auto", **colours)
    ax.scatter(X[:, 0], X[:, 1], c=y, edgecolors="black", s=20, **colours)
    ax.set(title=title or "Decision boundary", xlabel="Feature 1", ylabel="Feature 2")
    return _finish(fig, path)


def _class_colours(n_classes: int) -> dict:
    """One distinct colour per class index: a qualitative map with the bins centred on
    0, 1, ..., so regions and points of a class share a colour."""
    cmap = "tab10" if n_classes <= 10 else "tab20" if n_classes <= 20 else "viridis"
    size = {"tab10": 10, "tab20": 20}.get(cmap, n_classes)
    return {"cmap": cmap, "vmin": -0.5, "vmax": size - 0.5}


# ---- confusion matrix -------------------------------------------------------------------------


def plot_confusion_matrix(cm, class_names=None, normalize: bool = False, path=None):
    """A confusion matrix as a heatmap, each cell labelled with its count or fraction.

    Args:
        cm: (C, C) counts, rows true labels and columns predictions (as scikit-learn's
            ``confusion_matrix``), or a ClassificationReport.
        class_names: optional names for the rows and columns.
        normalize: divide each row by its total, so cells read as the fraction of a true
            class predicted as each class (the diagonal is each class's recall).
        path: optional file to save the figure to.

    Returns:
        The Figure.
    """
    if class_names is None:
        class_names = getattr(cm, "class_names", None)
    cm = np.asarray(getattr(cm, "confusion_matrix", cm))
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"a confusion matrix is square (C, C), got shape {cm.shape}")
    names = [str(i) for i in range(len(cm))] if class_names is None else list(class_names)
    if len(names) != len(cm):
        raise ValueError(f"got {len(names)} class_names for a {len(cm)}-class matrix")
    if normalize:
        totals = cm.sum(axis=1, keepdims=True)
        values = cm / np.maximum(totals, 1)  # a class absent from y keeps a row of zeros
    else:
        values = cm
    size = max(4.0, 0.6 * len(cm) + 2)
    fig, (ax,) = _figure(1, panel_size=(size + 1, size))
    image = ax.imshow(values, cmap="Blues", vmin=0, vmax=max(values.max(), 1e-12))
    fig.colorbar(image, ax=ax, label="Fraction of true class" if normalize else "Count")
    _annotate_cells(ax, values, normalize)
    ticks = np.arange(len(cm))
    ax.set_xticks(ticks, names, rotation=45 if max(map(len, names)) > 3 else 0, ha="right")
    ax.set_yticks(ticks, names)
    title = "Confusion matrix (normalized)" if normalize else "Confusion matrix"
    ax.set(title=title, xlabel="Predicted label", ylabel="True label")
    return _finish(fig, path)


def _annotate_cells(ax, values: np.ndarray, fractions: bool) -> None:
    # white text on the dark half of the colour map keeps every number readable
    threshold = values.max() / 2
    for (i, j), value in np.ndenumerate(values):
        text = f"{value:.2f}" if fractions else f"{int(value)}"
        colour = "white" if value > threshold else "black"
        ax.text(j, i, text, ha="center", va="center", color=colour, fontsize=9)


# ---- sample predictions -----------------------------------------------------------------------


def plot_sample_predictions(
    images, y_true, y_pred, confidence, class_names=None, n=16, path=None, image_shape=None
):
    """A grid of images titled 'true/pred (confidence)', wrong predictions in red.

    Args:
        images: (N, H, W), (N, H, W, 3), NCHW (N, 1 or 3, H, W), or flat (N, D) with
            ``image_shape`` (a square D needs none: 64 features become 8x8).
        y_true, y_pred: (N,) integer labels.
        confidence: (N,) confidence of each prediction in [0, 1], or None.
        class_names: optional names for the labels.
        n: how many images to show (the first n).
        path: optional file to save the figure to.
        image_shape: the shape each flat row is reshaped to, e.g. (8, 8).

    Returns:
        The Figure, one axes per image shown.
    """
    images = _as_images(np.asarray(images), image_shape)
    y_true, y_pred = np.asarray(y_true).reshape(-1), np.asarray(y_pred).reshape(-1)
    if not len(images) == len(y_true) == len(y_pred):
        raise ValueError(
            f"got {len(images)} images, {len(y_true)} true and {len(y_pred)} predicted labels"
        )
    count = min(n, len(images))
    fig, axes = _figure(count, panel_size=(1.8, 2.0), max_cols=math.ceil(math.sqrt(count)))
    for i, ax in enumerate(axes):
        ax.imshow(images[i], cmap="gray_r" if images[i].ndim == 2 else None)
        ax.set_axis_off()
        true, pred = (_label(v, class_names) for v in (y_true[i], y_pred[i]))
        conf = "" if confidence is None else f" ({float(confidence[i]):.0%})"
        colour = "green" if y_true[i] == y_pred[i] else "red"
        ax.set_title(f"{true}/{pred}{conf}", color=colour, fontsize=9)
    fig.suptitle("Sample predictions: true/predicted (confidence)")
    return _finish(fig, path)


def _as_images(images: np.ndarray, image_shape) -> np.ndarray:
    """Images ready for imshow: (N, H, W) or (N, H, W, 3)."""
    if image_shape is not None:
        images = images.reshape(len(images), *image_shape)
    elif images.ndim == 2:
        side = math.isqrt(images.shape[1])
        if side * side != images.shape[1]:
            raise ValueError(
                f"cannot tell the image size of flat rows of {images.shape[1]} values: "
                f"pass image_shape=(height, width)"
            )
        images = images.reshape(len(images), side, side)
    if images.ndim == 4 and images.shape[1] in (1, 3) and images.shape[-1] not in (1, 3):
        images = images.transpose(0, 2, 3, 1)  # NCHW (nnlab's layout) -> NHWC for imshow
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim not in (3, 4):
        raise ValueError(f"expected images (N, H, W[, 3]), got shape {images.shape}")
    return images


def _label(value, class_names) -> str:
    return str(value) if class_names is None else str(class_names[int(value)])


# ---- activation functions ---------------------------------------------------------------------


def activation_curve(name: str, x) -> tuple[np.ndarray, np.ndarray]:
    """An activation function and its derivative at ``x``, the derivative from nnlab's
    autograd (the backward pass training uses), not from a hand-written formula.

    Args:
        name: an activation name known to ``nnlab.nn.activation.get`` ('relu', 'gelu', ...).
        x: 1-D points; use float64 for exact curves.

    Returns:
        ``(f(x), f'(x))``.
    """
    from nnlab.nn.activation import get

    if name.lower() in ("softmax", "log_softmax"):
        raise ValueError(f"{name} is not elementwise (it normalises a vector): no 1-D curve")
    t = Tensor(np.asarray(x, dtype=np.float64), requires_grad=True)
    out = get(name)(t)
    # d(sum f(x_i))/dx_i = f'(x_i) for an elementwise f: one backward gives the whole curve
    out.backward(np.ones_like(out.data))
    return out.data.copy(), t.grad


def plot_activations(names=None, path=None):
    """Each activation function (solid) with its derivative (dashed), one panel each.

    Args:
        names: activation names; default ``DEFAULT_ACTIVATIONS``.
        path: optional file to save the figure to.

    Returns:
        The Figure.
    """
    names = list(DEFAULT_ACTIVATIONS if names is None else names)
    x = np.linspace(-5, 5, 401)
    fig, axes = _figure(len(names), panel_size=(3.8, 3.0))
    for ax, name in zip(axes, names, strict=True):
        y, dy = activation_curve(name, x)
        ax.plot(x, y, label="f(x)", linewidth=2)
        ax.plot(x, dy, "--", label="f'(x)", linewidth=1.5)
        ax.axhline(0, color="gray", linewidth=0.5)
        ax.axvline(0, color="gray", linewidth=0.5)
        ax.set(title=name, xlabel="x", ylabel="f(x), f'(x)")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    return _finish(fig, path)


# ---- architecture comparison ------------------------------------------------------------------


def plot_architecture_comparison(results, metric: str = "test_accuracy", path=None):
    """A bar per architecture, its value written on the bar.

    Args:
        results: name -> value, or name -> dict of metrics (``metric`` is taken from each).
        metric: the metric plotted when ``results`` holds dicts; also the y label.
        path: optional file to save the figure to.

    Returns:
        The Figure.
    """
    if not results:
        raise ValueError("results is empty: nothing to compare")
    names = [str(k) for k in results]
    values = np.array([_metric_value(v, metric, k) for k, v in results.items()], dtype=float)
    fig, (ax,) = _figure(1, panel_size=(max(5.0, 1.2 * len(names) + 2), 4.5))
    bars = ax.bar(names, values, color="tab:blue", alpha=0.8)
    ax.bar_label(bars, labels=[f"{v:.3f}" for v in values], padding=2)
    if values.min() >= 0 and values.max() <= 1:
        ax.set_ylim(0, 1.08)  # fractions such as accuracy: the full scale, room for labels
    else:
        ax.margins(y=0.12)
    ax.set(title="Architecture comparison", xlabel="Architecture", ylabel=_title(metric))
    ax.grid(True, axis="y", alpha=0.3)
    if max(map(len, names)) > 8:
        ax.tick_params(axis="x", labelrotation=30)
    return _finish(fig, path)


def _metric_value(value, metric: str, name) -> float:
    if isinstance(value, dict):
        if metric not in value:
            raise ValueError(f"results[{name!r}] has no {metric!r}; it has {list(value)}")
        return float(value[metric])
    return float(value)
