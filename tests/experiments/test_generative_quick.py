"""The generative experiment's quick run (a few epochs per model): every model is judged,
every loss logged is finite, every figure is saved; and the figure helpers' layouts."""

from pathlib import Path

import numpy as np
import pytest

from nnlab.experiments import generative
from nnlab.models.vae import VAE
from nnlab.plots_generative import latent_grid, plot_latent_manifold, tile_images


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    return generative.run(tmp_path_factory.mktemp("generative"), quick=True, seed=0)


def test_quick_run_judges_every_model(result, capsys):
    m = result["metrics"]
    assert m["judge"]["mlp_test_accuracy"] > 0.95
    assert m["judge"]["real_digits"]["classes_covered"] == 10
    for key in ("vae", "beta2_vae", "vae_2d", *generative.GANS):
        row = m[key]
        assert row["n_samples"] == 100 and sum(row["histogram"]) == 100
        assert 1 <= row["classes_covered"] <= 10 and 0.1 < row["mean_confidence"] <= 1.0
        assert row["all_losses_finite"], key
    for key in generative.GANS:
        assert {"d_loss", "g_loss", "d_real", "d_fake"} <= set(m[key]["final_logs"])
    assert "beta4_vae" not in m and "conv_vae" not in m  # full run only
    # ten epochs already give the VAE a recognisable spread of digits
    assert m["vae"]["classes_covered"] >= 7
    assert [row["experiment"] for row in result["summary"]] and len(result["summary"]) == 3


def test_quick_run_saves_its_figures(result):
    names = ["latent_manifold", "class_histograms", "vae_samples", "vae_losses", "gan_samples"]
    names += ["gan_over_training", "gan_losses", "dcgan_over_training", "dcgan_losses"]
    for name in names:
        assert Path(result["plots"][name]).stat().st_size > 1000, name
    assert result["models"]["vae_2d"].latent_dim == 2


def test_tile_images_lays_out_rows():
    images = np.arange(3 * 2 * 2, dtype=float).reshape(3, 1, 2, 2)
    canvas = tile_images(images, n_cols=2, pad=1, fill=-1.0)
    assert canvas.shape == (5, 5)
    np.testing.assert_array_equal(canvas[:2, :2], images[0, 0])
    np.testing.assert_array_equal(canvas[:2, 3:], images[1, 0])
    np.testing.assert_array_equal(canvas[3:, :2], images[2, 0])
    assert canvas[2].tolist() == [-1.0] * 5 and canvas[3:, 3:].tolist() == [[-1, -1], [-1, -1]]


def test_latent_grid_and_manifold_check():
    grid = latent_grid(3, span=1.0)
    assert grid[0].tolist() == [-1.0, 1.0] and grid[-1].tolist() == [1.0, -1.0]
    assert grid[:3, 1].tolist() == [1.0, 1.0, 1.0]  # first row: top of the z2 axis
    with pytest.raises(ValueError, match="latent_dim == 2, got 3"):
        plot_latent_manifold(VAE(64, latent_dim=3, seed=0))
