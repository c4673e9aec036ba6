"""Regularised autoencoders: sparse (KL target and L1 activity) and contractive (the encoder
Jacobian's Frobenius norm). Both are dense ``Autoencoder``s whose ``penalty()`` is added to
the compiled reconstruction loss; the penalties are also plain functions, so they can be
checked against NumPy and finite differences.
"""

import numpy as np

from nnlab import backend
from nnlab import functional as F
from nnlab.autograd.tensor import Tensor
from nnlab.models.autoencoders import Autoencoder
from nnlab.nn.module import register

# ---- sparse -------------------------------------------------------------------------------------


def sparsity_penalty(code: Tensor, target=0.05, kl_weight=1.0, l1=0.0, eps=1e-7) -> Tensor:
    """The sparse autoencoder's penalty on codes ``h`` (N, K):

        kl_weight * sum_j KL(rho || rho_hat_j) + l1 * mean_n sum_j |h_nj|,
        KL(rho || r) = rho log(rho / r) + (1 - rho) log((1 - rho) / (1 - r)),

    with ``rho_hat_j = mean_n h_nj`` the batch's mean activation of unit j (clipped to
    [eps, 1 - eps]) and rho = ``target`` (Ng's sparse autoencoder notes; the L1 term is
    Keras's activity regularizer per sample, averaged over the batch).
    """
    rho = float(target)
    total = None
    if kl_weight:
        rho_hat = code.mean(axis=0).clip(eps, 1.0 - eps)
        kl = rho * (rho / rho_hat).log() + (1.0 - rho) * ((1.0 - rho) / (1.0 - rho_hat)).log()
        total = float(kl_weight) * kl.sum()
    if l1:
        l1_term = float(l1) * code.abs().sum(axis=1).mean()
        total = l1_term if total is None else total + l1_term
    return total


@register
class SparseAutoencoder(Autoencoder):
    """Dense autoencoder whose code units are pushed towards a mean activation ``target``
    (KL term, weight ``kl_weight``) and/or small activity (L1, weight ``l1``); see
    ``sparsity_penalty``. The code is often wider than the input (overcomplete): the
    penalty, not the size, keeps it informative.

    Args:
        input_shape: as ``Autoencoder``.
        code_size: code units (default 64).
        hidden: encoder hidden sizes (default none: one sigmoid layer, as Ng's notes).
        target: the desired mean activation rho of each code unit, in (0, 1).
        kl_weight: beta, the weight of the KL term (needs a code in (0, 1): sigmoid). The
            default suits a per-element mean squared error loss ('mse').
        l1: weight of the L1 activity penalty.
        code_activation: default 'sigmoid'.
        **kwargs: the other ``Autoencoder`` arguments.
    """

    def __init__(
        self,
        input_shape,
        code_size=64,
        hidden=(),
        target=0.05,
        kl_weight=0.05,
        l1=0.0,
        code_activation="sigmoid",
        **kwargs,
    ):
        super().__init__(input_shape, code_size, hidden, code_activation=code_activation, **kwargs)
        if not 0.0 < float(target) < 1.0:
            raise ValueError(f"sparsity target must lie in (0, 1), got {target}")
        if kl_weight and code_activation != "sigmoid":
            raise ValueError(
                f"the KL sparsity term needs code activations in (0, 1): use "
                f"code_activation='sigmoid' (got {code_activation!r}) or kl_weight=0 with l1"
            )
        self.target, self.kl_weight, self.l1 = float(target), float(kl_weight), float(l1)

    def penalty(self):
        return sparsity_penalty(self._code, self.target, self.kl_weight, self.l1)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "target": self.target,
            "kl_weight": self.kl_weight,
            "l1": self.l1,
        }


# ---- contractive --------------------------------------------------------------------------------


def contractive_penalty(code: Tensor, weight: Tensor) -> Tensor:
    """Mean over the batch of ``||d h / d x||_F^2`` for a dense sigmoid encoder
    ``h = sigmoid(W x + b)``, in closed form (Rifai et al. 2011):

        d h_j / d x_i = h_j (1 - h_j) W_ji,
        ||J||_F^2 = sum_j (h_j (1 - h_j))^2 * sum_i W_ji^2.

    Built from differentiable ops, so its gradient reaches W and b (through h).

    Shape:
        code (N, K) sigmoid outputs, weight (K, D) -> scalar.
    """
    slope = (code * (1.0 - code)) ** 2
    return (slope * (weight**2).sum(axis=1)).sum(axis=1).mean()


@register
class ContractiveAutoencoder(Autoencoder):
    """Dense autoencoder with the penalty ``weight * mean_n ||d E(x_n) / d x_n||_F^2``,
    which makes the code insensitive to small changes of the input.

    With no hidden encoder layers and a sigmoid code (the defaults) the Jacobian norm is
    exact (``contractive_penalty``). A deeper encoder uses the finite-difference estimate
    ``sum_k ||E(x + s e_k) - E(x)||^2 / (K s^2)``, e_k ~ N(0, I), whose mean is
    ``||J||_F^2 + O(s^2)`` (``mc_samples`` = K draws of scale ``mc_scale`` = s).

    Args:
        input_shape: as ``Autoencoder``.
        code_size: code units (default 32).
        hidden: encoder hidden sizes (default none).
        contractive_weight: lambda, the weight of the penalty. Against a per-element 'mse'
            loss, 1e-4 to 1e-3 on 8x8 digits (larger trades reconstruction for contraction).
        mc_samples, mc_scale: the estimate's draws and scale (deeper encoders only).
        code_activation: default 'sigmoid'.
        **kwargs: the other ``Autoencoder`` arguments (seed also seeds the estimate's draws).
    """

    def __init__(
        self,
        input_shape,
        code_size=32,
        hidden=(),
        contractive_weight=1e-4,
        mc_samples=4,
        mc_scale=0.01,
        code_activation="sigmoid",
        **kwargs,
    ):
        super().__init__(input_shape, code_size, hidden, code_activation=code_activation, **kwargs)
        self.contractive_weight = float(contractive_weight)
        self.mc_samples, self.mc_scale = int(mc_samples), float(mc_scale)
        self.closed_form = not self.hidden and code_activation == "sigmoid"
        seed = self.seed
        self.penalty_rng = (
            backend.get_generator() if seed is None else np.random.default_rng([int(seed), 2])
        )

    def penalty(self):
        if not self.contractive_weight:
            return None
        if self.closed_form:
            norm = contractive_penalty(self._code, self.encoder.code.weight)
        else:
            norm = self._jacobian_estimate(self._encoder_input.data, self._code)
        return self.contractive_weight * norm

    def _jacobian_estimate(self, x: np.ndarray, code: Tensor) -> Tensor:
        k, s = self.mc_samples, self.mc_scale
        shifted = np.concatenate([x] * k)
        shifted = shifted + s * self.penalty_rng.standard_normal(shifted.shape).astype(x.dtype)
        diff = self.encoder(Tensor(shifted)) - F.concat([code] * k)
        return (diff**2).sum() / (k * s * s * len(x))

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "contractive_weight": self.contractive_weight,
            "mc_samples": self.mc_samples,
            "mc_scale": self.mc_scale,
        }


def jacobian_frobenius_norm(encoder, x) -> np.ndarray:
    """Per-sample ``||d encoder(x) / d x||_F`` by autograd, independently of any closed form:
    one backward pass per code unit (samples do not interact, so the backward of unit j's
    sum over the batch gives row j of every sample's Jacobian).

    Args:
        encoder: a module mapping (N, ...) to (N, K), e.g. ``model.encoder``.
        x: (N, ...) inputs, cast to the encoder's parameter dtype.

    Returns:
        (N,) float64 norms.
    """
    x = Tensor(np.asarray(x, dtype=encoder.parameters()[0].dtype), requires_grad=True)
    squares = np.zeros(len(x.data))
    for j in range(encoder(x).shape[1]):
        x.grad = None
        encoder(x)[:, j].sum().backward()
        squares += (x.grad.reshape(len(squares), -1).astype(np.float64) ** 2).sum(axis=1)
    return np.sqrt(squares)
