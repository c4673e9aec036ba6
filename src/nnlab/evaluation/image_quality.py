"""Image quality against a reference: PSNR and SSIM (Wang, Bovik, Sheikh and Simoncelli 2004).

Images are (H, W) (one image), (N, H, W) or (N, C, H, W) (nnlab's channels-first layout).
``reduction='none'`` gives one value per image. With ``reduction='mean'`` (the default),
SSIM is the mean of the images' SSIM, and PSNR is computed from the mean squared error over
all images (so one image that happens to equal its reference does not make it infinite).
SSIM of a multi-channel image is the mean of its channels' SSIM.
"""

import numpy as np

K1, K2 = 0.01, 0.03  # Wang et al.'s stabilising constants
WIN_SIZE, SIGMA = 11, 1.5  # their 11x11 circular-symmetric Gaussian window


def _pair(a, b, fn: str) -> tuple[np.ndarray, np.ndarray]:
    """Both images as float64 (N, C, H, W), with a clear error for bad shapes."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"{fn} needs two arrays of the same shape, got {a.shape} and {b.shape}")
    if a.ndim not in (2, 3, 4):
        raise ValueError(
            f"{fn} expects images (H, W), (N, H, W) or (N, C, H, W), got shape {a.shape}; "
            "reshape flat rows first, e.g. x.reshape(-1, 8, 8)"
        )
    shape = {2: (1, 1, *a.shape), 3: (a.shape[0], 1, *a.shape[1:]), 4: a.shape}[a.ndim]
    return a.reshape(shape), b.reshape(shape)


def _reduce(values: np.ndarray, single: bool, reduction: str):
    if reduction == "none":
        return values[0] if single else values
    if reduction == "mean":
        return float(np.mean(values))
    raise ValueError(f"reduction must be 'mean' or 'none', got {reduction!r}")


def psnr(clean, noisy, data_range: float = 1.0, reduction: str = "mean"):
    """Peak signal-to-noise ratio in dB: ``10 log10(data_range^2 / MSE)``.

    Args:
        clean: the reference images.
        noisy: images of the same shape to compare with it.
        data_range: max minus min of the possible values (1 for pixels in [0, 1]).
        reduction: 'mean' (the PSNR of the MSE over all images) or 'none' (per image).

    Returns:
        A float (inf when the images equal their references), or (N,) values.
    """
    a, b = _pair(clean, noisy, "psnr")
    mse = np.mean((a - b) ** 2, axis=(1, 2, 3))
    if reduction == "mean":
        mse = np.array([mse.mean()])
    with np.errstate(divide="ignore"):
        values = 10.0 * np.log10(float(data_range) ** 2 / mse)
    return _reduce(values, np.ndim(clean) == 2, reduction)


def gaussian_window(size: int = WIN_SIZE, sigma: float = SIGMA) -> np.ndarray:
    """The 1-D normalised Gaussian ``g`` whose outer product ``g g^T`` is SSIM's window."""
    offsets = np.arange(size) - (size - 1) / 2
    g = np.exp(-(offsets**2) / (2 * sigma**2))
    return g / g.sum()


def _filter_valid(images: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Weighted sums of every window that fits inside (..., H, W): a separable 'valid'
    correlation with ``g g^T`` (a loop over the kernel's offsets, not over pixels)."""
    w = len(g)
    h_out, w_out = images.shape[-2] - w + 1, images.shape[-1] - w + 1
    rows = sum(g[k] * images[..., k : k + h_out, :] for k in range(w))
    return sum(g[k] * rows[..., :, k : k + w_out] for k in range(w))


def ssim(
    a,
    b,
    data_range: float = 1.0,
    win_size: int = WIN_SIZE,
    sigma: float = SIGMA,
    reduction: str = "mean",
):
    """Structural similarity (Wang et al. 2004), the mean of the SSIM map per image.

    For each ``win_size`` x ``win_size`` window lying inside the image, with Gaussian
    weights (std ``sigma``, summing to 1) giving the local means mu, variances s^2 and
    covariance s_ab (weighted, no sample correction):

        SSIM = (2 mu_a mu_b + C1)(2 s_ab + C2) / ((mu_a^2 + mu_b^2 + C1)(s_a^2 + s_b^2 + C2)),
        C1 = (0.01 L)^2, C2 = (0.03 L)^2, L = data_range.

    This is ``skimage.metrics.structural_similarity(..., gaussian_weights=True, sigma=1.5,
    use_sample_covariance=False, data_range=L)``. Images smaller than the window (8x8
    digits) use the largest odd window that fits, with the same sigma.

    Args:
        a, b: images of the same shape.
        data_range: max minus min of the possible values.
        win_size: odd window side (default 11).
        sigma: standard deviation of the Gaussian weights (default 1.5).
        reduction: 'mean' over images or 'none' (per image).

    Returns:
        A float in [-1, 1] (1: identical), or (N,) values.
    """
    x, y = _pair(a, b, "ssim")
    side = min(int(win_size), *x.shape[-2:])
    side -= 1 - side % 2  # the largest odd size that fits
    if side < 1:
        raise ValueError(f"ssim needs an odd win_size >= 1, got {win_size}")
    g = gaussian_window(side, sigma)
    c1, c2 = (K1 * data_range) ** 2, (K2 * data_range) ** 2
    mu_x, mu_y = _filter_valid(x, g), _filter_valid(y, g)
    var_x = _filter_valid(x * x, g) - mu_x**2
    var_y = _filter_valid(y * y, g) - mu_y**2
    cov = _filter_valid(x * y, g) - mu_x * mu_y
    numerator = (2 * mu_x * mu_y + c1) * (2 * cov + c2)
    denominator = (mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2)
    values = (numerator / denominator).mean(axis=(1, 2, 3))
    return _reduce(values, np.ndim(a) == 2, reduction)
