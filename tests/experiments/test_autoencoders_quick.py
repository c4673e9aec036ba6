"""The autoencoder experiment's quick run (15 epochs, a subset of its measurements): each of
the issue's acceptance figures already holds, and every figure is saved."""

from pathlib import Path

import pytest

from nnlab.experiments import autoencoders


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    return autoencoders.run(tmp_path_factory.mktemp("autoencoders"), quick=True, seed=0)


def test_quick_run_meets_the_acceptance_figures(result):
    m = result["metrics"]
    code8 = m["compression"][8]
    assert code8["ae_mse"] < code8["pca_mse"]  # autoencoder beats PCA at equal code size
    assert m["compression"][2]["ae_mse"] > code8["ae_mse"]  # a smaller code loses more
    gauss = m["denoising"]["gaussian"]
    assert gauss["psnr_gain"] >= 3.0 and gauss["denoised_ssim"] > gauss["noisy_ssim"]
    assert m["sparse"]["relative_error"] <= 0.2
    vanilla, contractive = m["contractive"][0.0], m["contractive"][1e-4]
    assert contractive["jacobian_norm"] < vanilla["jacobian_norm"]
    assert contractive["test_mse"] < 1.1 * vanilla["test_mse"]  # comparable reconstruction
    assert m["anomaly"][0]["auroc"] >= 0.9
    assert 0.9 < m["raw_pixel_accuracy"] < 1.0
    assert code8["ae_codes_accuracy"] > 0.8  # 8 numbers keep most of the class information


def test_quick_run_saves_its_figures_and_summary(result):
    for name in ("mse_by_code_size", "reconstructions", "denoising", "latent_2d", "interpolation"):
        assert Path(result["plots"][name]).stat().st_size > 0, name
    assert len(result["summary"]) == 5
    assert result["models"]["ae_code8"].code_size == 8
