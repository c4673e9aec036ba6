"""PCA as the linear baseline of an autoencoder: reconstruction through k principal
components (scikit-learn), the best any linear encoder/decoder pair with a k-dimensional
code can do in squared error on the data it is fitted to."""

import numpy as np


def pca_reconstruct(x_train, x, n_components: int) -> np.ndarray:
    """``x`` projected on the first ``n_components`` principal components of ``x_train``
    and mapped back (``inverse_transform(transform(x))``), in ``x``'s shape.

    Shape:
        x_train (N, ...), x (M, ...) with the same sample shape -> (M, ...).
    """
    from sklearn.decomposition import PCA

    x_train, x = np.asarray(x_train), np.asarray(x)
    if x_train.shape[1:] != x.shape[1:]:
        raise ValueError(
            f"x_train samples have shape {x_train.shape[1:]}, x samples {x.shape[1:]}: they "
            "must match"
        )
    pca = PCA(n_components=int(n_components)).fit(x_train.reshape(len(x_train), -1))
    flat = pca.inverse_transform(pca.transform(x.reshape(len(x), -1)))
    return flat.reshape(x.shape).astype(x.dtype, copy=False)


def pca_reconstruction_mse(x_train, x_test, n_components: int) -> float:
    """Mean squared error (over samples and features) of ``pca_reconstruct`` on x_test."""
    recon = pca_reconstruct(x_train, x_test, n_components)
    return float(np.mean((np.asarray(x_test, np.float64) - recon) ** 2))
