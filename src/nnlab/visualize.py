"""What convolutional networks compute, as pictures: the seeds' classic filters applied to
real images, the feature maps of a network for one input, the filters a layer learned, and
pooling on a small array with its values written in.

As ``nnlab.plots``, every function builds a ``matplotlib.figure.Figure`` directly (headless,
no pyplot state), returns it and saves it when given ``path``; matplotlib is imported inside
the functions so that ``import nnlab`` stays fast. Convolutions and pooling are computed with
nnlab's own ``conv2d``, ``max_pool2d`` and ``avg_pool2d``.
"""

import math
from pathlib import Path

import numpy as np

from nnlab import functional as F
from nnlab.autograd import Tensor, no_grad


def _filter(rows, scale=1.0) -> np.ndarray:
    array = np.asarray(rows, dtype=np.float32) * np.float32(scale)
    array.setflags(write=False)
    return array


# The 3x3 filters of seed 002 ("Different Types of Filters"), applied as cross-correlations
# (as conv2d and the seed's step-by-step example compute them).
CLASSIC_FILTERS = {
    "vertical edge": _filter([[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]]),
    "horizontal edge": _filter([[-1, -1, -1], [0, 0, 0], [1, 1, 1]]),
    "diagonal edge": _filter([[-1, 0, 1], [0, 0, 0], [1, 0, -1]]),
    "Gaussian blur": _filter([[1, 2, 1], [2, 4, 2], [1, 2, 1]], 1 / 16),
    "sharpen": _filter([[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
}

# Seed 002's pooling example ("Max Pooling: What's the strongest signal?").
POOLING_EXAMPLE = _filter([[1, 3, 2, 4], [2, 1, 1, 3], [5, 8, 7, 9], [6, 2, 3, 1]])


def _save(fig, path):
    if path is not None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=100)
    return fig


def _new_figure(rows: int, cols: int, panel=(2.2, 2.2)):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(panel[0] * cols, panel[1] * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False)
    return fig, axes


def _image_axis(ax, image, title=None, **imshow):
    shown = ax.imshow(image, **{"cmap": "gray", "interpolation": "nearest", **imshow})
    ax.set_xticks([])
    ax.set_yticks([])
    if title is not None:
        ax.set_title(title, fontsize=9)
    return shown


# ---- images ---------------------------------------------------------------------------------


def sample_grayscale(name: str = "china.jpg") -> np.ndarray:
    """One of scikit-learn's sample photographs (installed with it, no download) as a
    float32 grayscale image in [0, 1]: luma 0.299 R + 0.587 G + 0.114 B (ITU-R 601)."""
    from sklearn.datasets import load_sample_image

    rgb = load_sample_image(name).astype(np.float32) / 255.0
    return rgb @ np.array([0.299, 0.587, 0.114], np.float32)


def apply_filters(image, filters=None) -> np.ndarray:
    """Every filter applied to a 2-D image with ``conv2d`` (cross-correlation), zero padded so
    the output keeps the image's size.

    Args:
        image: (H, W) array.
        filters: {name: (k, k) array} with odd k; default ``CLASSIC_FILTERS``.

    Returns:
        (n_filters, H, W) float32 array, in the order of ``filters``.
    """
    image = np.asarray(image, dtype=np.float32)
    if image.ndim != 2:
        raise ValueError(f"apply_filters expects one 2-D grayscale image, got shape {image.shape}")
    filters = CLASSIC_FILTERS if filters is None else filters
    sizes = {np.shape(k) for k in filters.values()}
    if len(sizes) != 1 or any(s % 2 == 0 for s in next(iter(sizes))):
        raise ValueError(f"filters must share one odd (k, k) size, got sizes {sorted(sizes)}")
    kh, kw = next(iter(sizes))
    weight = np.stack([np.asarray(k, np.float32) for k in filters.values()])[:, None]
    with no_grad():
        out = F.conv2d(Tensor(image[None, None]), Tensor(weight), padding=(kh // 2, kw // 2))
    return out.data[0]


def plot_filters_applied(images, filters=None, path=None):
    """Each image (a row) next to its convolution with each filter (a column).

    Args:
        images: one (H, W) image, a list of them, or {label: image}.
        filters: {name: (k, k) array}; default ``CLASSIC_FILTERS`` (edges, blur, sharpen).
        path: optional file to save the figure to.

    Returns:
        The Figure: len(images) rows of 1 + len(filters) axes; the first column shows the
        image, the others ``apply_filters(image, filters)``.
    """
    filters = CLASSIC_FILTERS if filters is None else filters
    if isinstance(images, dict):
        labelled = list(images.items())
    else:
        images = [images] if np.ndim(images) == 2 else list(images)
        labelled = [(f"image {i + 1}", image) for i, image in enumerate(images)]
    fig, axes = _new_figure(len(labelled), 1 + len(filters))
    for row, (label, image) in zip(axes, labelled, strict=True):
        _image_axis(row[0], np.asarray(image), "original")
        row[0].set_ylabel(label)
        for ax, name, out in zip(row[1:], filters, apply_filters(image, filters), strict=True):
            # the 1st-99th percentile range: edge responses are mostly near 0 with rare peaks
            low, high = np.percentile(out, [1, 99])
            _image_axis(ax, out, name, vmin=low, vmax=high if high > low else low + 1)
    return _save(fig, path)


# ---- what a network computes ----------------------------------------------------------------


def _is_feature_layer(layer) -> bool:
    """A convolution (transposed ones included), a pooling window or a residual block: a
    layer with a spatial kernel whose output is still a stack of maps."""
    kind = type(layer).__name__
    if any(word in kind for word in ("Global", "Adaptive")):
        return False
    return any(hasattr(layer, a) for a in ("kernel_size", "pool_size", "receptive_field_specs"))


def feature_maps(model, x) -> list:
    """The output of every convolution and pooling layer (top-level children of ``model``
    with a spatial kernel, ResidualBlocks included; not global pooling) for one input, in
    inference mode.

    Args:
        model: a Model, Sequential or Module whose children are its layers.
        x: one image (C, H, W) or a batch of one (1, C, H, W).

    Returns:
        [(layer name, type name, (C, H, W) array), ...] in call order.
    """
    x = np.asarray(x, dtype=np.float32)
    x = x[None] if x.ndim == 3 else x
    if x.ndim != 4 or len(x) != 1:
        raise ValueError(f"feature_maps expects one image (C, H, W), got shape {x.shape}")
    records, handles = [], []

    def hook(module, inputs, output):
        records.append((module, output.data[0].copy()))

    for child in model.children():
        if _is_feature_layer(child):
            handles.append(child.register_forward_hook(hook))
    names = {id(child): getattr(child, "name", name) for name, child in model.named_children()}
    training = model.training
    model.eval()
    try:
        with no_grad():
            model(Tensor(x))
    finally:
        model.train(training)
        for handle in handles:
            handle.remove()
    return [(names[id(m)], type(m).__name__, out) for m, out in records]


def plot_feature_maps(model, x, max_channels: int = 8, path=None):
    """The input and, one row per convolution/pooling layer, its first ``max_channels``
    feature maps for the single input ``x`` (see ``feature_maps``).

    Returns:
        The Figure: 1 + n_layers rows of ``max(max_channels, input channels)`` columns; the
        row label names the layer, its type and its output shape.
    """
    maps = feature_maps(model, x)
    if not maps:
        raise ValueError(
            f"{type(model).__name__} has no convolution or pooling layers among its children"
        )
    x = np.asarray(x, dtype=np.float32)
    x = x[0] if x.ndim == 4 else x
    cols = min(max_channels, max(out.shape[0] for *_, out in maps))
    fig, axes = _new_figure(1 + len(maps), cols, panel=(1.6, 1.6))
    rows = [("input", "", x)] + maps
    for row, (name, kind, out) in zip(axes, rows, strict=True):
        for c, ax in enumerate(row):
            if c < min(cols, out.shape[0]):
                _image_axis(ax, out[c], f"ch {c}")
            else:
                ax.set_axis_off()
        shape = "x".join(str(d) for d in out.shape)
        row[0].set_ylabel(f"{name}\n{kind} {shape}" if kind else f"input\n{shape}", fontsize=8)
    return _save(fig, path)


def plot_learned_filters(conv_layer, max_filters: int = 32, channel=None, path=None):
    """The kernels of a 2-D convolution layer, one panel per output channel.

    Args:
        conv_layer: a layer with a ``weight`` of shape (C_out, C_in, kH, kW)
            (``layers.Conv2D``, ``nn.Conv2d``).
        max_filters: at most this many output channels are shown.
        channel: the input channel to show; default: the kernel itself for one input
            channel, an RGB picture for three, input channel 0 otherwise.
        path: optional file to save the figure to.

    Returns:
        The Figure, 8 panels wide; grayscale panels share one symmetric colour scale (so
        their magnitudes compare) shown by a colour bar.
    """
    weight = getattr(conv_layer, "weight", None)
    weight = getattr(weight, "data", weight)
    if weight is None or np.ndim(weight) != 4:
        raise ValueError(
            f"plot_learned_filters needs a built 2-D convolution with a (C_out, C_in, kH, kW) "
            f"weight, got {type(conv_layer).__name__} with weight "
            f"{None if weight is None else np.shape(weight)}"
        )
    total = len(weight)
    weight = np.asarray(weight, dtype=np.float64)[:max_filters]
    n, c_in = weight.shape[:2]
    rgb = channel is None and c_in == 3
    cols = min(8, n)
    fig, axes = _new_figure(math.ceil(n / cols), cols, panel=(1.4, 1.5))
    limit = float(np.abs(weight).max()) or 1.0
    image = None
    for k, ax in enumerate(axes.ravel()):
        if k >= n:
            ax.set_axis_off()
            continue
        if rgb:  # each filter scaled to [0, 1] on its own: its colours, not its magnitude
            w = weight[k].transpose(1, 2, 0)
            _image_axis(ax, (w - w.min()) / (np.ptp(w) or 1.0), f"filter {k}")
        else:
            kernel = weight[k, channel or 0]
            image = _image_axis(ax, kernel, f"filter {k}", cmap="RdBu_r", vmin=-limit, vmax=limit)
    if image is not None:
        fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.8)
    name = getattr(conv_layer, "name", type(conv_layer).__name__)
    fig.suptitle(f"Learned filters of {name} ({n} of {total})")
    return _save(fig, path)


def plot_pooling_example(x=None, path=None):
    """A small array before and after 2x2 max and average pooling (stride 2), each cell's
    value written in it; the default is seed 002's 4x4 example.

    Returns:
        The Figure with three axes: 'Input', 'Max pool 2x2', 'Average pool 2x2'.
    """
    x = POOLING_EXAMPLE if x is None else np.asarray(x, dtype=np.float32)
    if x.ndim != 2:
        raise ValueError(f"plot_pooling_example expects a 2-D array, got shape {x.shape}")
    with no_grad():
        batch = Tensor(x[None, None])
        pooled = [F.max_pool2d(batch, 2).data[0, 0], F.avg_pool2d(batch, 2).data[0, 0]]
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 3.6), layout="constrained")
    axes = fig.subplots(1, 3, width_ratios=[2, 1, 1])
    titles = ["Input", "Max pool 2x2", "Average pool 2x2"]
    for ax, values, title in zip(axes, [x, *pooled], titles, strict=True):
        ax.imshow(values, cmap="Blues", vmin=float(x.min()), vmax=float(x.max()) * 1.3)
        for (i, j), v in np.ndenumerate(values):
            ax.text(j, i, f"{v:g}", ha="center", va="center", fontsize=12)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(title)
    return _save(fig, path)
