"""The variational autoencoder (Kingma and Welling, 2013), its beta variant (Higgins et al.,
2017) and KL annealing (Bowman et al., 2016).

The encoder maps x to the mean ``mu`` and log-variance ``logvar`` of a diagonal Gaussian
q(z|x); a sample z = mu + exp(logvar / 2) * eps, eps ~ N(0, I), is decoded to the parameters
of p(x|z). Training minimises the negative evidence lower bound per sample,

    loss = reconstruction + beta * kl_weight * KL(q(z|x) || N(0, I)),
    KL = -1/2 sum_j (1 + logvar_j - mu_j^2 - exp(logvar_j))   (closed form),

where reconstruction is -log p(x|z): binary cross-entropy on the decoder's logits summed
over pixels (Bernoulli likelihood, data in [0, 1]) or the squared error over 2 sigma^2
(Gaussian likelihood with fixed standard deviation sigma). ``beta`` > 1 is the beta-VAE;
``kl_weight`` is the annealing factor that ``KLAnnealing`` raises linearly from 0 to 1.
"""

import numpy as np

from nnlab import backend
from nnlab import functional as F
from nnlab.autograd.graph import no_grad
from nnlab.autograd.tensor import Tensor
from nnlab.nn import Conv2d, ConvTranspose2d, Flatten, Linear, ReLU, Sequential, Unflatten
from nnlab.nn.module import evaluating, module_config, module_from_config, register
from nnlab.training import Model
from nnlab.training.callbacks import Callback

LIKELIHOODS = ("bernoulli", "gaussian")


# ---- the math, as functions of Tensors ------------------------------------------------------


def reparameterize(mu, logvar, eps):
    """z = mu + exp(logvar / 2) * eps: a sample of N(mu, exp(logvar)) that is differentiable
    in mu and logvar (eps is a constant drawn from N(0, I)).

    Shape: mu, logvar, eps (N, latent_dim) -> z (N, latent_dim).
    """
    return mu + F.exp(0.5 * logvar) * eps


def kl_divergence(mu, logvar):
    """KL(N(mu, exp(logvar)) || N(0, I)) of each sample, in closed form:
    -1/2 sum_j (1 + logvar_j - mu_j^2 - exp(logvar_j)).

    Shape: mu, logvar (N, latent_dim) -> (N,).
    """
    return -0.5 * F.sum(1.0 + logvar - mu * mu - F.exp(logvar), axis=1)


def kl_annealing_weight(t, warmup) -> float:
    """The KL weight of a linear warm-up: t / warmup, capped at 1 (1 when ``warmup`` is 0).

    Args:
        t: the epoch (or step) counted from 0; the weight is 0 at t = 0.
        warmup: epochs (or steps) to reach full weight.
    """
    if warmup < 0 or t < 0:
        raise ValueError(f"warmup and t must be >= 0, got warmup={warmup}, t={t}")
    return 1.0 if warmup == 0 else float(min(1.0, t / warmup))


class KLAnnealing(Callback):
    """Raise a VAE's ``kl_weight`` linearly from 0 to 1 over ``warmup`` epochs or steps, so
    the decoder learns to use z before the KL term pulls q(z|x) onto the prior.

    Args:
        warmup: epochs (``unit='epoch'``) or training steps (``unit='step'``) of warm-up.
        unit: 'epoch' (set at the start of each epoch) or 'step' (before each batch,
            counting batches across epochs and ``fit`` calls).
    """

    def __init__(self, warmup: int, unit: str = "epoch"):
        super().__init__()
        if unit not in ("epoch", "step"):
            raise ValueError(f"KLAnnealing unit must be 'epoch' or 'step', got {unit!r}")
        if int(warmup) < 0:
            raise ValueError(f"KLAnnealing warmup must be >= 0, got {warmup}")
        self.warmup, self.unit, self.steps = int(warmup), unit, 0

    def on_epoch_begin(self, epoch, logs=None):
        if self.unit == "epoch":
            self.model.kl_weight = kl_annealing_weight(epoch, self.warmup)

    def on_train_batch_begin(self, batch, logs=None):
        if self.unit == "step":
            self.model.kl_weight = kl_annealing_weight(self.steps, self.warmup)
            self.steps += 1


# ---- default networks -----------------------------------------------------------------------


def dense_encoder(in_features: int, latent_dim: int, hidden=(256, 128), rng=None) -> Sequential:
    """Flatten, then Linear + ReLU per ``hidden`` size, then Linear to 2 * latent_dim
    (the means, then the log-variances)."""
    sizes = [in_features, *hidden]
    layers = [Flatten()]
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [Linear(n_in, n_out, rng=rng), ReLU()]
    return Sequential(*layers, Linear(sizes[-1], 2 * latent_dim, rng=rng))


def dense_decoder(latent_dim: int, out_features: int, hidden=(128, 256), rng=None) -> Sequential:
    """Linear + ReLU per ``hidden`` size, then Linear to ``out_features`` outputs (logits
    or means, flat; the VAE reshapes them to the input's shape)."""
    sizes = [latent_dim, *hidden]
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [Linear(n_in, n_out, rng=rng), ReLU()]
    return Sequential(*layers, Linear(sizes[-1], out_features, rng=rng))


def conv_encoder(input_shape, latent_dim: int, channels=(32, 64), rng=None) -> Sequential:
    """Two 3x3 stride-2 convolutions (halving height and width each) with ReLU, Flatten, and
    Linear to 2 * latent_dim. Height and width must be divisible by 4 (8x8, 28x28)."""
    c, h, w = _image_shape(input_shape)
    c1, c2 = channels
    return Sequential(
        Conv2d(c, c1, 3, stride=2, padding=1, rng=rng),
        ReLU(),
        Conv2d(c1, c2, 3, stride=2, padding=1, rng=rng),
        ReLU(),
        Flatten(),
        Linear(c2 * (h // 4) * (w // 4), 2 * latent_dim, rng=rng),
    )


def conv_decoder(latent_dim: int, output_shape, channels=(64, 32), rng=None) -> Sequential:
    """Linear to a (channels[0], H/4, W/4) map, then two 4x4 stride-2 transposed
    convolutions doubling the size (ReLU between), ending in ``output_shape`` logits."""
    c, h, w = _image_shape(output_shape)
    c1, c2 = channels
    return Sequential(
        Linear(latent_dim, c1 * (h // 4) * (w // 4), rng=rng),
        ReLU(),
        Unflatten(1, (c1, h // 4, w // 4)),
        ConvTranspose2d(c1, c2, 4, stride=2, padding=1, rng=rng),
        ReLU(),
        ConvTranspose2d(c2, c, 4, stride=2, padding=1, rng=rng),
    )


def _image_shape(shape) -> tuple:
    shape = tuple(int(s) for s in shape)
    if len(shape) != 3 or shape[1] % 4 or shape[2] % 4:
        raise ValueError(
            f"convolutional VAE needs an image shape (channels, height, width) with height and "
            f"width divisible by 4, got {shape}; e.g. (1, 8, 8) or (1, 28, 28)"
        )
    return shape


# ---- the model ------------------------------------------------------------------------------


@register
class VAE(Model):
    """Variational autoencoder trained with ``compile(optimizer)`` and ``fit(x)``.

    Args:
        input_shape: shape of one sample, e.g. 64 or (1, 8, 8).
        latent_dim: size of z.
        hidden: hidden sizes of the default dense encoder (the decoder mirrors them).
        likelihood: 'bernoulli' (decoder gives logits; data in [0, 1]) or 'gaussian'
            (decoder gives means; squared error / (2 sigma^2)).
        beta: weight of the KL term (1: the VAE; > 1: beta-VAE).
        sigma: standard deviation of the Gaussian likelihood (smaller weighs reconstruction
            more against the KL term).
        encoder, decoder: modules to use instead of the dense ones: the encoder maps
            (N, *input_shape) to (N, 2 * latent_dim) (means, then log-variances), the decoder
            (N, latent_dim) to N samples of input_shape's size (any shape).
        seed: seeds the initial weights, the shuffling and the reparameterisation noise.

    Shape:
        fit/predict inputs (N, *input_shape); ``predict`` returns reconstructions (decoded
        posterior means) of the same shape.

    Logs: 'loss' (negative ELBO per sample with the current weights), 'reconstruction_loss',
    'kl_loss' (unweighted KL per sample) and 'kl_weight'.
    """

    builtin_loss = "negative_elbo"

    def __init__(
        self,
        input_shape=64,
        latent_dim: int = 8,
        hidden=(256, 128),
        likelihood: str = "bernoulli",
        beta: float = 1.0,
        sigma: float = 0.1,
        encoder=None,
        decoder=None,
        seed=None,
        name=None,
    ):
        if likelihood not in LIKELIHOODS:
            raise ValueError(f"likelihood must be one of {LIKELIHOODS}, got {likelihood!r}")
        if beta < 0 or sigma <= 0:
            raise ValueError(f"need beta >= 0 and sigma > 0, got beta={beta}, sigma={sigma}")
        weight_rng, noise_rng = _generators(seed)
        super().__init__(name=name or "vae", seed=noise_rng)
        self.seed = seed if seed is None or isinstance(seed, np.random.Generator) else int(seed)
        self.input_shape = (int(input_shape),) if np.ndim(input_shape) == 0 else tuple(input_shape)
        self.latent_dim, self.likelihood = int(latent_dim), likelihood
        self.beta, self.sigma, self.kl_weight = float(beta), float(sigma), 1.0
        n_features = int(np.prod(self.input_shape))
        if encoder is None:
            encoder = dense_encoder(n_features, self.latent_dim, hidden, weight_rng)
        if decoder is None:
            decoder = dense_decoder(
                self.latent_dim, n_features, tuple(reversed(hidden)), weight_rng
            )
        self.encoder, self.decoder = encoder, decoder

    def get_config(self) -> dict:
        """Constructor arguments, with the encoder and decoder as module configs (so custom
        networks round-trip too). A Generator seed is not saved (None)."""
        return {
            "input_shape": list(self.input_shape),
            "latent_dim": self.latent_dim,
            "likelihood": self.likelihood,
            "beta": self.beta,
            "sigma": self.sigma,
            "encoder": module_config(self.encoder),
            "decoder": module_config(self.decoder),
            "seed": self.seed if isinstance(self.seed, int) else None,
            "name": self.name,
        }

    @classmethod
    def from_config(cls, config: dict) -> "VAE":
        parts = {k: module_from_config(config[k]) for k in ("encoder", "decoder")}
        return cls(**{**config, **parts})

    def compile(self, optimizer="adam", loss=None, metrics=None):
        """Choose the optimizer; the loss is always the negative ELBO."""
        if loss is not None or metrics:
            raise ValueError(
                f"VAE's loss is the negative ELBO and it logs its own terms: compile(optimizer) "
                f"takes no loss or metrics, got loss={loss!r}, metrics={metrics!r}"
            )
        return super().compile(optimizer)

    # ---- the pieces -------------------------------------------------------------------------
    def posterior(self, x):
        """(mu, logvar) Tensors of q(z|x) for a Tensor batch ``x``."""
        self._check_input(x)
        h = self.encoder(x)
        if h.ndim != 2 or h.shape[1] != 2 * self.latent_dim:
            raise ValueError(
                f"VAE encoder must output (N, {2 * self.latent_dim}) = (means, log-variances), "
                f"got {tuple(h.shape)}"
            )
        return h[:, : self.latent_dim], h[:, self.latent_dim :]

    def decoder_output(self, z):
        """The decoder's raw output for a Tensor batch z, shaped (N, *input_shape): logits
        (Bernoulli) or means (Gaussian)."""
        out = self.decoder(z)
        return F.reshape(out, (out.shape[0], *self.input_shape))

    def loss_terms(self, x, eps=None):
        """(reconstruction, kl) Tensors, each the mean over the batch of the per-sample
        negative log-likelihood and KL. ``eps`` (N, latent_dim) fixes the noise (default:
        drawn from the model's Generator)."""
        mu, logvar = self.posterior(x)
        if eps is None:
            eps = self.rng.standard_normal(mu.shape).astype(mu.dtype)
        out = self.decoder_output(reparameterize(mu, logvar, eps))
        n = x.shape[0]
        if self.likelihood == "bernoulli":
            recon = F.binary_cross_entropy_with_logits(out, x, reduction="sum") / n
        else:
            recon = F.mse_loss(out, x, reduction="sum") / (2.0 * self.sigma**2 * n)
        return recon, F.mean(kl_divergence(mu, logvar))

    def forward(self, x):
        """Reconstructions: the decoded posterior means, as probabilities or means."""
        mu, _ = self.posterior(x)
        return self._mean_output(self.decoder_output(mu))

    def _mean_output(self, out):
        return F.sigmoid(out) if self.likelihood == "bernoulli" else out

    def _check_input(self, x) -> None:
        if tuple(x.shape[1:]) != self.input_shape:
            raise ValueError(
                f"VAE expects samples of shape {self.input_shape}, got a batch of shape "
                f"{tuple(x.shape)}; reshape the data or build the VAE with "
                f"input_shape={tuple(x.shape[1:])}"
            )

    # ---- training ---------------------------------------------------------------------------
    def train_step(self, batch) -> dict:
        x = Tensor(batch[0])
        recon, kl = self.loss_terms(x)
        loss = recon + (self.beta * self.kl_weight) * kl
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return self._step_logs(loss, recon, kl)

    def test_step(self, batch) -> dict:
        with no_grad():
            recon, kl = self.loss_terms(Tensor(batch[0]))
            loss = recon + (self.beta * self.kl_weight) * kl
        return self._step_logs(loss, recon, kl)

    def _step_logs(self, loss, recon, kl) -> dict:
        return {
            "loss": loss.item(),
            "reconstruction_loss": recon.item(),
            "kl_loss": kl.item(),
            "kl_weight": self.kl_weight,
        }

    # ---- helpers ----------------------------------------------------------------------------
    def encode(self, x, batch_size: int = 256):
        """(mu, logvar) arrays of q(z|x), in inference mode; ``mu`` is the usual feature."""
        x = np.asarray(x, dtype=backend.default_dtype())
        with evaluating(self):
            parts = [
                self.posterior(Tensor(x[i : i + batch_size])) for i in range(0, len(x), batch_size)
            ]
        return tuple(np.concatenate([p[k].data for p in parts]) for k in (0, 1))

    def decode(self, z, batch_size: int = 256) -> np.ndarray:
        """Decoded samples (probabilities or means) of shape (N, *input_shape) for z (N, L)."""
        z = np.asarray(z, dtype=backend.default_dtype())
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"decode expects z of shape (N, {self.latent_dim}), got {z.shape}")
        with evaluating(self):
            outs = [
                self._mean_output(self.decoder_output(Tensor(z[i : i + batch_size]))).data
                for i in range(0, len(z), batch_size)
            ]
        return np.concatenate(outs)

    def sample(self, n: int, rng=None) -> np.ndarray:
        """``n`` new samples: z drawn from the prior N(0, I) (with ``rng``, default the
        model's Generator), decoded."""
        rng = self.rng if rng is None else backend.get_generator(rng)
        return self.decode(rng.standard_normal((int(n), self.latent_dim)))


def _generators(seed):
    """Independent Generators for the initial weights and for the model's noise and
    shuffling, both from ``seed`` (None: the library's Generator for both)."""
    if seed is None:
        return None, None
    if isinstance(seed, np.random.Generator):
        return seed, seed
    weights, noise = np.random.SeedSequence(int(seed)).spawn(2)
    return np.random.default_rng(weights), np.random.default_rng(noise)


def conv_vae(input_shape=(1, 8, 8), latent_dim: int = 8, seed=None, **kwargs) -> VAE:
    """A VAE with the convolutional encoder and decoder (see ``conv_encoder``/``conv_decoder``).
    Other keyword arguments go to ``VAE``."""
    weight_rng, _ = _generators(seed)
    return VAE(
        input_shape=input_shape,
        latent_dim=latent_dim,
        encoder=conv_encoder(input_shape, latent_dim, rng=weight_rng),
        decoder=conv_decoder(latent_dim, input_shape, rng=weight_rng),
        seed=seed,
        **kwargs,
    )
