"""nnlab.plots_autoencoder: the images, points and labels each figure actually draws."""

import numpy as np
import pytest
from matplotlib.figure import Figure

from nnlab.models.autoencoders import Autoencoder
from nnlab.plots_autoencoder import (
    interpolate_codes,
    plot_image_grid,
    plot_interpolation,
    plot_latent_scatter,
    plot_reconstructions,
)

RNG = np.random.default_rng(0)
IMAGES = RNG.random((7, 1, 8, 8))


def drawn(fig):
    """The arrays of every imshow, axes by axes (empty axes skipped)."""
    return [ax.images[0].get_array() for ax in fig.axes if ax.images]


def test_image_grid_draws_each_image_in_order(tmp_path):
    path = tmp_path / "grid.png"
    fig = plot_image_grid(IMAGES, ncols=3, titles=list("abcdefg"), path=path, title="T")
    assert isinstance(fig, Figure) and path.stat().st_size > 0
    assert len(fig.axes) == 9  # 3 x 3, two left empty
    arrays = drawn(fig)
    assert len(arrays) == 7
    for got, want in zip(arrays, IMAGES[:, 0], strict=True):
        np.testing.assert_array_equal(got, want)
    assert [ax.get_title() for ax in fig.axes[:7]] == list("abcdefg")
    assert fig.axes[0].images[0].get_clim() == (0.0, 1.0)
    flat = plot_image_grid(IMAGES.reshape(7, 64), ncols=7)  # square rows need no image_shape
    np.testing.assert_array_equal(drawn(flat)[3], IMAGES[3, 0])
    with pytest.raises(ValueError, match="2 titles for 7 images"):
        plot_image_grid(IMAGES, titles=["a", "b"])


def test_reconstruction_rows_are_original_noisy_denoised():
    recon, noisy = IMAGES * 0.5, IMAGES * 0.25
    fig = plot_reconstructions(IMAGES, recon, noisy, n=4)
    arrays = drawn(fig)
    assert len(arrays) == 12
    np.testing.assert_array_equal(arrays[1], IMAGES[1, 0])
    np.testing.assert_array_equal(arrays[5], noisy[1, 0])
    np.testing.assert_array_equal(arrays[9], recon[1, 0])
    labels = [ax.get_ylabel() for ax in fig.axes if ax.get_ylabel()]
    assert labels == ["original", "noisy", "denoised"]
    plain = plot_reconstructions(IMAGES, recon, n=10)
    assert len(drawn(plain)) == 14  # n capped at the 7 images
    with pytest.raises(ValueError, match="same number of images"):
        plot_reconstructions(IMAGES, recon[:3])


def test_latent_scatter_one_collection_per_class():
    codes = RNG.standard_normal((30, 2))
    labels = np.repeat([0, 3, 5], 10)
    fig = plot_latent_scatter(codes, labels, title="codes")
    ax = fig.axes[0]
    assert len(ax.collections) == 3
    np.testing.assert_array_equal(ax.collections[1].get_offsets(), codes[10:20])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["0", "3", "5"]
    assert ax.get_title() == "codes" and ax.get_xlabel() == "code 1"
    with pytest.raises(ValueError, match=r"needs \(N, 2\) codes"):
        plot_latent_scatter(RNG.standard_normal((5, 3)), None)


def test_interpolate_codes_and_strip():
    z = interpolate_codes([0.0, 2.0], [1.0, -2.0], steps=5)
    np.testing.assert_allclose(z, [[0, 2], [0.25, 1], [0.5, 0], [0.75, -1], [1, -2]])
    with pytest.raises(ValueError, match="at least 2"):
        interpolate_codes([0.0], [1.0], steps=1)
    model = Autoencoder((1, 8, 8), code_size=3, seed=0)
    a, b = IMAGES[0].astype(np.float32), IMAGES[1].astype(np.float32)
    fig = plot_interpolation(model, a, b, steps=4)
    arrays = drawn(fig)
    assert len(arrays) == 6
    np.testing.assert_array_equal(arrays[0], a[0])
    np.testing.assert_array_equal(arrays[-1], b[0])
    ends = model.decode(model.encode(np.stack([a, b])))
    np.testing.assert_allclose(arrays[1], ends[0, 0], rtol=1e-5)  # t = 0 decodes E(a)
    np.testing.assert_allclose(arrays[4], ends[1, 0], rtol=1e-5)
    assert [ax.get_title() for ax in fig.axes] == ["a", "0.00", "0.33", "0.67", "1.00", "b"]
