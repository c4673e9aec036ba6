"""Figures of the generative models: sample grids, the VAE's 2-D latent manifold, GAN samples
over training, and the loss curves of a VAE's terms and of both GAN players.

As in ``nnlab.plots``, every function builds a ``matplotlib.figure.Figure`` directly (no
pyplot), returns it and saves it when given ``path``. Grids are drawn as one tiled image
per row of panels rather than one axes per sample, so 100 samples cost one ``imshow``.
"""

import math

import numpy as np

from nnlab.plots import _as_images, _figure, _finish


def tile_images(images, n_cols: int = 10, pad: int = 1, fill: float = 0.0) -> np.ndarray:
    """Gray images (N, H, W) laid out row by row on one (rows*(H+pad)-pad, ...) canvas.

    Args:
        images: (N, H, W), (N, 1, H, W) or flat square rows (N, H*W).
        n_cols: images per row.
        pad: pixels of ``fill`` between images.
    """
    images = _as_images(np.asarray(images, dtype=float), None)
    if images.ndim != 3:
        raise ValueError(f"tile_images takes gray images, got shape {images.shape}")
    n, h, w = images.shape
    n_cols = max(1, min(int(n_cols), n))
    n_rows = math.ceil(n / n_cols)
    canvas = np.full((n_rows * (h + pad) - pad, n_cols * (w + pad) - pad), fill)
    for i, image in enumerate(images):
        r, c = divmod(i, n_cols)
        canvas[r * (h + pad) : r * (h + pad) + h, c * (w + pad) : c * (w + pad) + w] = image
    return canvas


def plot_sample_grid(images, n_cols: int = 10, title=None, path=None):
    """A grid of generated (or real) gray images in [0, 1], ``n_cols`` per row.

    Args:
        images: (N, H, W), (N, 1, H, W) or flat square rows (N, H*W); or a dict
            {panel title: images} for several grids side by side.
    """
    grids = images if isinstance(images, dict) else {title or "": images}
    canvases = {name: tile_images(x, n_cols, fill=np.nan) for name, x in grids.items()}
    rows, cols = (
        max(c.shape[0] for c in canvases.values()),
        max(c.shape[1] for c in canvases.values()),
    )
    size = (0.04 * cols + 0.5, 0.04 * rows + 0.6)
    fig, axes = _figure(len(canvases), panel_size=size, max_cols=3)
    for ax, (name, canvas) in zip(axes, canvases.items(), strict=True):
        ax.imshow(canvas, cmap="gray_r", vmin=0.0, vmax=1.0)
        ax.set_axis_off()
        ax.set_title(name, fontsize=9)
    if isinstance(images, dict) and title:
        fig.suptitle(title)
    return _finish(fig, path)


def plot_vae_samples(vae, n: int = 100, rng=None, n_cols: int = 10, title=None, path=None):
    """``n`` samples of a VAE: z drawn from the prior N(0, I), decoded."""
    samples = vae.sample(n, rng)
    return plot_sample_grid(samples, n_cols, title or f"VAE samples from the prior ({n})", path)


def latent_grid(n: int = 15, span: float = 2.0) -> np.ndarray:
    """(n*n, 2) points of a square grid over [-span, span]^2, row by row from the top (z2
    decreasing) and left to right (z1 increasing), as the manifold figure lays them out."""
    values = np.linspace(-span, span, n)
    z1, z2 = np.meshgrid(values, values[::-1])
    return np.stack([z1.ravel(), z2.ravel()], axis=1)


def plot_latent_manifold(vae, n: int = 15, span: float = 2.0, path=None):
    """The decoder's picture of a 2-D latent space: decodings of an n x n grid of z over
    [-span, span]^2 (about 95% of the prior's mass per axis for span 2).

    Raises:
        ValueError: when the VAE's latent space is not 2-D.
    """
    if vae.latent_dim != 2:
        raise ValueError(
            f"the latent manifold is drawn for latent_dim == 2, got {vae.latent_dim}; plot "
            "samples with plot_vae_samples instead"
        )
    images = _as_images(vae.decode(latent_grid(n, span)), None)
    canvas = tile_images(images, n_cols=n, pad=1, fill=np.nan)  # a gap keeps digits apart
    fig, (ax,) = _figure(1, panel_size=(7, 7))
    ax.imshow(canvas, cmap="gray_r", vmin=0, vmax=1)
    # tick each row and column at its image's centre, labelled with its z value
    h, w = images.shape[1:]
    values = np.linspace(-span, span, n)
    every = max(1, n // 5)
    ax.set_xticks(
        np.arange(n)[::every] * (w + 1) + (w - 1) / 2, [f"{v:.1f}" for v in values[::every]]
    )
    ax.set_yticks(
        np.arange(n)[::every] * (h + 1) + (h - 1) / 2, [f"{v:.1f}" for v in values[::-1][::every]]
    )
    ax.set(xlabel="z1", ylabel="z2", title=f"VAE latent manifold ({n}x{n} decodings)")
    return _finish(fig, path)


def plot_samples_over_training(snapshots: dict, n_cols: int = 10, path=None, title=None):
    """GAN (or VAE) samples from the same fixed noise after each recorded epoch, one row
    per epoch, labelled, so the same z can be followed down a column.

    Args:
        snapshots: {epoch: images} (e.g. ``SampleSnapshots.snapshots``), images as for
            ``plot_sample_grid``; the first ``n_cols`` of each are shown.
    """
    if not snapshots:
        raise ValueError("no snapshots to plot: record some with SampleSnapshots first")
    epochs = sorted(snapshots)
    first = _as_images(np.asarray(snapshots[epochs[0]]), None)
    cols = min(n_cols, len(first))
    from matplotlib.figure import Figure

    fig = Figure(figsize=(0.55 * cols + 1.2, 0.6 * len(epochs) + 0.6), layout="constrained")
    axes = fig.subplots(len(epochs), 1, squeeze=False)[:, 0]
    for ax, epoch in zip(axes, epochs, strict=True):
        row = tile_images(np.asarray(snapshots[epoch])[:cols], n_cols=cols, fill=np.nan)
        ax.imshow(row, cmap="gray_r", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_ylabel(f"epoch {epoch}", rotation=0, ha="right", va="center", fontsize=8)
    fig.suptitle(title or "Samples from fixed noise over training")
    return _finish(fig, path)


def plot_gan_losses(history, path=None, title=None):
    """Both players' losses per epoch (left) and the discriminator's mean outputs on real and
    generated samples (right; they meet at 0.5 when D can no longer tell them apart)."""
    logs = _logs(history, ("d_loss", "g_loss"))
    epochs = np.arange(1, len(logs["d_loss"]) + 1)
    fig, (left, right) = _figure(2, panel_size=(5, 3.5))
    left.plot(epochs, logs["d_loss"], label="discriminator")
    left.plot(epochs, logs["g_loss"], label="generator (non-saturating)")
    left.set(xlabel="Epoch", ylabel="Loss", title=title or "GAN losses")
    for key, label in (("d_real", "D(x), real"), ("d_fake", "D(G(z)), generated")):
        if key in logs:
            right.plot(epochs, logs[key], label=label)
    right.axhline(0.5, color="gray", lw=0.8, ls="--")
    right.set(xlabel="Epoch", ylabel="Mean discriminator output", ylim=(0, 1), title="D outputs")
    for ax in (left, right):
        ax.grid(True, alpha=0.3)
        ax.legend()
    return _finish(fig, path)


def plot_vae_losses(history, path=None, title=None):
    """The VAE's terms per epoch: total loss and reconstruction (left), KL and the
    annealing weight (right).

    Args:
        history: a History (or its dict) with 'loss', 'reconstruction_loss' and 'kl_loss';
            or a dict {model name: history} to compare several VAEs.
    """
    single = hasattr(history, "history") or "loss" in history
    histories = {"VAE": history} if single else history
    fig, (left, right) = _figure(2, panel_size=(6, 4))
    schedules = []  # distinct annealing schedules, each drawn once
    for i, (name, h) in enumerate(histories.items()):
        logs = _logs(h, ("loss", "reconstruction_loss", "kl_loss"))
        epochs, colour = np.arange(1, len(logs["loss"]) + 1), f"C{i}"
        left.plot(epochs, logs["loss"], color=colour, label=name)
        left.plot(epochs, logs["reconstruction_loss"], color=colour, ls=":")
        right.plot(epochs, logs["kl_loss"], color=colour, label=name)
        weight = list(logs.get("kl_weight", []))
        if weight and min(weight) < 1 and weight not in schedules:
            schedules.append(weight)
            right.plot(epochs, weight, color="gray", ls="--", label="KL weight (annealing)")
    left.set(
        xlabel="Epoch",
        ylabel="Nats per sample",
        title=title or "VAE: loss (solid) and reconstruction (dotted)",
    )
    right.set(xlabel="Epoch", ylabel="Nats per sample", title="KL(q(z|x) || p(z))")
    for ax in (left, right):
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    return _finish(fig, path)


def _logs(history, required) -> dict:
    logs = getattr(history, "history", history)
    missing = [k for k in required if k not in logs]
    if missing:
        raise ValueError(f"history has no values for {missing}; has {sorted(logs)}")
    return logs


def plot_class_histograms(histograms: dict, path=None, title=None):
    """Predicted-class counts of each model's samples as grouped bars (a generator that
    covers every class evenly gives flat bars; mode collapse gives one tall bar).

    Args:
        histograms: {model name: (10,) counts per predicted class}.
    """
    if not histograms:
        raise ValueError("no histograms to plot")
    counts = np.asarray([np.asarray(h) for h in histograms.values()], dtype=float)
    n_models, n_classes = counts.shape
    fig, (ax,) = _figure(1, panel_size=(max(7, 0.9 * n_classes), 3.8))
    width = 0.8 / n_models
    for i, (name, row) in enumerate(zip(histograms, counts, strict=True)):
        ax.bar(np.arange(n_classes) + (i - (n_models - 1) / 2) * width, row, width, label=name)
    ax.set_xticks(np.arange(n_classes))
    ax.set(
        xlabel="Predicted class", ylabel="Samples", title=title or "Classes of generated samples"
    )
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    return _finish(fig, path)
