"""PSNR and SSIM: closed-form cases, and SSIM against a direct window-by-window computation
of Wang et al.'s formula (scikit-image is not a dependency)."""

import numpy as np
import pytest

from nnlab.evaluation.image_quality import gaussian_window, psnr, ssim


def ssim_by_windows(a, b, win=11, sigma=1.5, data_range=1.0):
    """Wang et al. (2004) for one 2-D image pair, written out: every window position, its
    Gaussian-weighted means, variances and covariance, then the mean of the map."""
    offsets = np.arange(win) - (win - 1) / 2
    w = np.exp(-(offsets[:, None] ** 2 + offsets[None, :] ** 2) / (2 * sigma**2))
    w /= w.sum()
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    values = []
    for i in range(a.shape[0] - win + 1):
        for j in range(a.shape[1] - win + 1):
            pa, pb = a[i : i + win, j : j + win], b[i : i + win, j : j + win]
            ma, mb = (w * pa).sum(), (w * pb).sum()
            va, vb = (w * (pa - ma) ** 2).sum(), (w * (pb - mb) ** 2).sum()
            cov = (w * (pa - ma) * (pb - mb)).sum()
            values.append(
                (2 * ma * mb + c1) * (2 * cov + c2) / ((ma**2 + mb**2 + c1) * (va + vb + c2))
            )
    return float(np.mean(values))


def test_psnr_known_values():
    clean = np.zeros((2, 1, 4, 4))
    noisy = clean + np.array([0.1, 0.01])[:, None, None, None]  # MSE 1e-2 and 1e-4
    np.testing.assert_allclose(psnr(clean, noisy, reduction="none"), [20.0, 40.0])
    mean_mse = (1e-2 + 1e-4) / 2  # 'mean': the PSNR of the mean squared error
    assert psnr(clean, noisy) == pytest.approx(10 * np.log10(1 / mean_mse))
    assert psnr(clean * 255, noisy * 255, data_range=255.0) == pytest.approx(psnr(clean, noisy))
    noisy[1] = 0.0  # one image equal to its reference: infinite alone, finite in the mean
    assert psnr(clean, noisy, reduction="none")[1] == np.inf
    assert psnr(clean, noisy) == pytest.approx(10 * np.log10(2 / 1e-2))
    assert psnr(clean[0, 0], clean[0, 0]) == np.inf
    assert psnr(clean[0, 0], noisy[0, 0]) == pytest.approx(20.0)  # one (H, W) image


def test_gaussian_window_is_normalised_and_symmetric():
    g = gaussian_window(11, 1.5)
    assert g.sum() == pytest.approx(1.0) and g.argmax() == 5
    np.testing.assert_allclose(g, g[::-1])
    assert g[4] / g[5] == pytest.approx(np.exp(-1 / (2 * 1.5**2)))


@pytest.mark.parametrize(("size", "win"), [(16, 11), (12, 7), (9, 3)])
def test_ssim_matches_the_formula_window_by_window(size, win):
    rng = np.random.default_rng(size)
    a = rng.random((size, size))
    b = np.clip(a + 0.2 * rng.standard_normal(a.shape), 0, 1)
    assert ssim(a, b, win_size=win) == pytest.approx(ssim_by_windows(a, b, win), rel=1e-12)


def test_ssim_of_constant_images_is_the_luminance_term():
    c1 = 0.01**2
    for u, v in ((0.2, 0.7), (0.5, 0.5), (0.0, 1.0)):
        a, b = np.full((12, 12), u), np.full((12, 12), v)
        assert ssim(a, b) == pytest.approx((2 * u * v + c1) / (u * u + v * v + c1))


def test_ssim_properties_batches_and_channels():
    rng = np.random.default_rng(1)
    a = rng.random((3, 2, 13, 13))
    b = np.clip(a + 0.1 * rng.standard_normal(a.shape), 0, 1)
    assert ssim(a, a) == pytest.approx(1.0)
    assert ssim(a, b) == pytest.approx(ssim(b, a))
    per_image = ssim(a, b, reduction="none")
    expected = [np.mean([ssim_by_windows(a[n, c], b[n, c]) for c in range(2)]) for n in range(3)]
    np.testing.assert_allclose(per_image, expected, rtol=1e-12)
    assert ssim(a, b) == pytest.approx(np.mean(expected))
    # worse noise, lower SSIM
    worse = np.clip(a + 0.3 * rng.standard_normal(a.shape), 0, 1)
    assert ssim(a, worse) < ssim(a, b) < 1.0


def test_small_images_use_the_largest_window_that_fits():
    rng = np.random.default_rng(2)
    a, b = rng.random((5, 8, 8)), rng.random((5, 8, 8))
    np.testing.assert_allclose(
        ssim(a, b, reduction="none"), ssim(a, b, win_size=7, reduction="none")
    )
    assert ssim(a[0], b[0]) == pytest.approx(ssim_by_windows(a[0], b[0], win=7))


def test_bad_inputs_get_clear_errors():
    with pytest.raises(ValueError, match="same shape"):
        psnr(np.zeros((2, 4, 4)), np.zeros((2, 4, 5)))
    with pytest.raises(ValueError, match=r"reshape flat rows first"):
        ssim(np.zeros(64), np.zeros(64))
    with pytest.raises(ValueError, match="reduction must be"):
        psnr(np.zeros((4, 4)), np.ones((4, 4)), reduction="sum")
