"""Figures of autoencoders: image grids, originals against reconstructions (and noisy
against denoised), a 2-D latent space coloured by label, and a strip decoded along the line
between two inputs' codes.

As ``nnlab.plots``: every function builds a ``matplotlib.figure.Figure`` without pyplot
(headless, no global state), returns it and saves it when given ``path``.
"""

import numpy as np

from nnlab.plots import _as_images, _finish


def plot_image_grid(
    images,
    ncols=None,
    titles=None,
    row_labels=None,
    path=None,
    title=None,
    image_shape=None,
    cmap="gray_r",
    value_range=(0.0, 1.0),
):
    """A grid of images, row by row.

    Args:
        images: (N, H, W), (N, H, W, 3), NCHW (N, 1 or 3, H, W) or flat (N, D) with
            ``image_shape`` (a square D needs none).
        ncols: images per row (default: about sqrt(N)).
        titles: optional N strings, one above each image.
        row_labels: optional strings written left of each row (e.g. 'original').
        path: optional file to save the figure to.
        title: the figure's title.
        image_shape: the shape each flat row is reshaped to.
        cmap: colour map of one-channel images.
        value_range: (vmin, vmax) of the colour scale (None: each image's own range).

    Returns:
        The Figure, one axes per image (drawn with ``imshow``).
    """
    from matplotlib.figure import Figure

    images = _as_images(np.asarray(images), image_shape)
    n = len(images)
    if n == 0:
        raise ValueError("plot_image_grid got no images")
    ncols = int(ncols or np.ceil(np.sqrt(n)))
    nrows = -(-n // ncols)
    if titles is not None and len(titles) != n:
        raise ValueError(f"got {len(titles)} titles for {n} images")
    if row_labels is not None and len(row_labels) != nrows:
        raise ValueError(f"got {len(row_labels)} row labels for {nrows} rows")
    fig = Figure(figsize=(1.1 * ncols + 0.8, 1.15 * nrows + 0.5), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    vmin, vmax = value_range if value_range is not None else (None, None)
    for i, ax in enumerate(axes.flat):
        ax.set_xticks([])
        ax.set_yticks([])
        if i >= n:
            ax.set_axis_off()
            continue
        ax.imshow(images[i], cmap=cmap if images[i].ndim == 2 else None, vmin=vmin, vmax=vmax)
        if titles is not None:
            ax.set_title(str(titles[i]), fontsize=8)
    for r, label in enumerate(row_labels or []):
        axes[r, 0].set_ylabel(label, fontsize=9)
    if title:
        fig.suptitle(title)
    return _finish(fig, path)


def plot_reconstructions(
    originals, reconstructions, noisy=None, n: int = 10, path=None, title=None, image_shape=None
):
    """Rows of the first ``n`` originals and their reconstructions; with ``noisy``, the
    rows are clean / noisy input / denoised output.

    Args:
        originals, reconstructions: images of the same shape (see ``plot_image_grid``).
        noisy: optional corrupted inputs the reconstructions were computed from.
        n: images per row.
        path, title, image_shape: as ``plot_image_grid``.
    """
    rows = [("original", originals)]
    if noisy is not None:
        rows.append(("noisy", noisy))
    rows.append(("denoised" if noisy is not None else "reconstruction", reconstructions))
    lengths = {len(images) for _, images in rows}
    if len(lengths) != 1:
        raise ValueError(f"every row needs the same number of images, got {sorted(lengths)}")
    n = min(int(n), lengths.pop())
    stacked = np.concatenate([np.asarray(images)[:n] for _, images in rows])
    labels = [label for label, _ in rows]
    default = "Inputs and their reconstructions"
    return plot_image_grid(stacked, n, None, labels, path, title or default, image_shape)


def plot_latent_scatter(codes, labels=None, path=None, title=None, class_names=None):
    """Two-dimensional codes as points, coloured by class label (with a legend).

    Args:
        codes: (N, 2) codes, e.g. ``model.encode(x)`` of a model with ``code_size=2``.
        labels: optional (N,) integer labels.
        path, title: as ``plot_image_grid``; class_names: names of the labels.

    Returns:
        The Figure (one axes; one scatter collection per class).
    """
    from matplotlib import colormaps
    from matplotlib.figure import Figure

    codes = np.asarray(codes)
    if codes.ndim != 2 or codes.shape[1] != 2:
        raise ValueError(
            f"plot_latent_scatter needs (N, 2) codes, got shape {codes.shape}; train with "
            "code_size=2 or reduce the codes first (e.g. sklearn PCA(2).fit_transform(codes))"
        )
    fig = Figure(figsize=(6.0, 5.0), layout="constrained")
    ax = fig.add_subplot()
    if labels is None:
        ax.scatter(codes[:, 0], codes[:, 1], s=8, alpha=0.7)
    else:
        labels = np.asarray(labels).reshape(-1)
        classes = np.unique(labels)
        palette = colormaps["tab10" if classes.max() < 10 else "tab20"]
        for c in classes:
            name = str(c) if class_names is None else str(class_names[int(c)])
            pts = codes[labels == c]
            ax.scatter(
                pts[:, 0], pts[:, 1], s=8, alpha=0.7, color=palette(int(c) % palette.N), label=name
            )
        ax.legend(markerscale=2, fontsize=8, loc="best")
    ax.set(xlabel="code 1", ylabel="code 2", title=title or "Latent space")
    return _finish(fig, path)


def interpolate_codes(z_a, z_b, steps: int = 10) -> np.ndarray:
    """``steps`` codes evenly spaced on the segment from ``z_a`` to ``z_b`` (both included).

    Shape:
        z_a, z_b (K,) -> (steps, K).
    """
    if int(steps) < 2:
        raise ValueError(f"steps must be at least 2 (the two ends), got {steps}")
    t = np.linspace(0.0, 1.0, int(steps))[:, None]
    z_a, z_b = np.asarray(z_a).reshape(-1), np.asarray(z_b).reshape(-1)
    return ((1.0 - t) * z_a + t * z_b).astype(np.result_type(z_a, z_b), copy=False)


def plot_interpolation(model, x_a, x_b, steps: int = 10, path=None, title=None, image_shape=None):
    """A strip: input a, the decodings of ``steps`` codes from E(a) to E(b), input b.

    Args:
        model: has ``encode`` and ``decode`` (an nnlab autoencoder).
        x_a, x_b: two inputs, each one sample (no batch axis) or a batch of one.
        steps: decoded images, ends included.
        path, title, image_shape: as ``plot_image_grid``.
    """
    x_a, x_b = (
        np.asarray(x)[None] if np.ndim(x) == len(model.input_shape) else x for x in (x_a, x_b)
    )
    z = interpolate_codes(model.encode(x_a)[0], model.encode(x_b)[0], steps)
    strip = np.concatenate([x_a[:1], model.decode(z), x_b[:1]])
    titles = ["a"] + [f"{t:.2f}" for t in np.linspace(0, 1, int(steps))] + ["b"]
    default = "Decoded along the line between two codes"
    return plot_image_grid(strip, len(strip), titles, None, path, title or default, image_shape)


def plot_error_by_code_size(sizes, curves: dict, path=None, title=None, ylabel="test MSE"):
    """Reconstruction error against code size, one line per method, log-log axes.

    Args:
        sizes: the code sizes (x values).
        curves: {label: errors}, one error per size (e.g. autoencoder and PCA).
        path, title: as ``plot_image_grid``; ylabel: the error's name.
    """
    from matplotlib.figure import Figure

    sizes = list(sizes)
    fig = Figure(figsize=(5.5, 4.0), layout="constrained")
    ax = fig.add_subplot()
    for label, errors in curves.items():
        if len(errors) != len(sizes):
            raise ValueError(f"curve {label!r} has {len(errors)} values for {len(sizes)} sizes")
        ax.plot(sizes, errors, "o-", label=label)
    ax.set(xscale="log", yscale="log", xlabel="code size", ylabel=ylabel,
           title=title or "Reconstruction error by code size")  # fmt: skip
    ax.set_xticks(sizes, [str(k) for k in sizes])
    ax.legend()
    return _finish(fig, path)
