"""The generative adversarial network (Goodfellow et al., 2014) and DCGAN-style networks
(Radford et al., 2015).

The seeds' minimax game min_G max_D E[log D(x)] + E[log(1 - D(G(z)))] is played by
alternating updates in ``train_step``, both with binary cross-entropy on the
discriminator's logits (sigmoid and log fused, finite for any logit):

1. discriminator: d_loss = BCE(D(x), 1 - smoothing) + BCE(D(G(z)), 0), G's output a
   constant (no gradient reaches the generator);
2. generator: the non-saturating loss g_loss = BCE(D(G(z')), 1) = -log D(G(z')) on fresh
   noise z', whose gradient stays strong while D still rejects the fakes (log(1 - D(G(z)))
   would flatten exactly then). D's parameters are frozen during this step.

One-sided label smoothing (Salimans et al., 2016) lowers only the real targets. A loss that
is NaN or inf raises ``FloatingPointError`` (or stops training, see ``compile``) before any
parameter is touched.
"""

import contextlib

import numpy as np

from nnlab import backend, optim
from nnlab import functional as F
from nnlab.autograd.graph import no_grad
from nnlab.autograd.tensor import Tensor
from nnlab.nn import (
    BatchNorm1d,
    BatchNorm2d,
    Conv2d,
    ConvTranspose2d,
    Flatten,
    LeakyReLU,
    Linear,
    ReLU,
    Sequential,
    Sigmoid,
    Unflatten,
)
from nnlab.nn.module import Module, evaluating
from nnlab.training import Model
from nnlab.training.callbacks import Callback

NAN_POLICIES = ("raise", "stop")


class GAN(Model):
    """A generator and a discriminator trained against each other with ``fit(x)``.

    Args:
        generator: module mapping noise (N, latent_dim) to samples shaped like the data.
        discriminator: module mapping samples to one logit each, (N, 1) (or (N,)).
        latent_dim: size of the noise vector z ~ N(0, I).
        seed: seeds the noise and the shuffling (the networks' weights are seeded by their
            builders).

    Logs per step (epoch means in ``History``): 'd_loss', 'g_loss', 'd_real' (mean D(x))
    and 'd_fake' (mean D(G(z)) in the discriminator step).
    """

    builtin_loss = "non_saturating_gan"

    def __init__(
        self, generator: Module, discriminator: Module, latent_dim: int, seed=None, name=None
    ):
        super().__init__(name=name or "gan", seed=seed)
        for role, net in (("generator", generator), ("discriminator", discriminator)):
            if not isinstance(net, Module):
                raise TypeError(f"GAN {role} must be an nnlab Module, got {type(net).__name__}")
        self.generator, self.discriminator = generator, discriminator
        self.latent_dim = int(latent_dim)
        self.d_optimizer = self.g_optimizer = None
        self.label_smoothing, self.on_nan = 0.0, "raise"

    def compile(self, d_optimizer="adam", g_optimizer="adam", label_smoothing=0.0, on_nan="raise"):
        """Build both networks and bind one optimizer to each.

        Args:
            d_optimizer, g_optimizer: optimizer names or instances (e.g.
                ``optim.Adam(lr=2e-4, betas=(0.5, 0.999))``, DCGAN's choice).
            label_smoothing: real targets become 1 - label_smoothing (one-sided), in [0, 0.5).
            on_nan: 'raise' (FloatingPointError) or 'stop' (skip the update, end ``fit``) when
                a loss is NaN or inf.
        """
        if not 0.0 <= label_smoothing < 0.5:
            raise ValueError(f"label_smoothing must be in [0, 0.5), got {label_smoothing}")
        if on_nan not in NAN_POLICIES:
            raise ValueError(f"on_nan must be one of {NAN_POLICIES}, got {on_nan!r}")
        self._build_networks()
        self.d_optimizer = optim.get(d_optimizer, self.discriminator.parameters())
        self.g_optimizer = optim.get(g_optimizer, self.generator.parameters())
        if self.d_optimizer is self.g_optimizer:
            raise ValueError("the generator and the discriminator need separate optimizers")
        self.optimizer = self.d_optimizer  # fit reports self.optimizer's learning rate
        self.label_smoothing, self.on_nan = float(label_smoothing), on_nan
        return self

    def _build_networks(self) -> None:
        """Run one noise vector through G and D (lazy layers create their parameters)."""
        with evaluating(self):
            fake = self.generator(Tensor(np.zeros((1, self.latent_dim), backend.default_dtype())))
            self._check_logits(self.discriminator(fake))
        self.sample_shape = tuple(fake.shape[1:])
        self.built = True

    def forward(self, z):
        """Samples G(z) for noise ``z`` (N, latent_dim); ``predict(z)`` generates."""
        return self.generator(z)

    # ---- training ---------------------------------------------------------------------------
    def noise(self, n: int, rng=None) -> np.ndarray:
        """``n`` noise vectors z ~ N(0, I), (n, latent_dim), drawn with ``rng`` (default: the
        model's Generator)."""
        rng = self.rng if rng is None else backend.get_generator(rng)
        return rng.standard_normal((int(n), self.latent_dim)).astype(backend.default_dtype())

    def discriminator_loss(self, x, fake):
        """(d_loss, D(x) logits, D(fake) logits) for real ``x`` and generated ``fake``."""
        if tuple(x.shape[1:]) != tuple(fake.shape[1:]):
            raise ValueError(
                f"GAN generator makes samples of shape {tuple(fake.shape[1:])} but the data "
                f"has shape {tuple(x.shape[1:])}: reshape the data or build the generator "
                "for that shape"
            )
        real_logits = self._check_logits(self.discriminator(x))
        fake_logits = self._check_logits(self.discriminator(fake))
        real_target = np.full(real_logits.shape, 1.0 - self.label_smoothing)
        loss = F.binary_cross_entropy_with_logits(real_logits, real_target)
        loss = loss + F.binary_cross_entropy_with_logits(fake_logits, np.zeros(fake_logits.shape))
        return loss, real_logits, fake_logits

    def generator_loss(self, z):
        """The non-saturating loss -log D(G(z)), as BCE of D(G(z)) against 1."""
        logits = self._check_logits(self.discriminator(self.generator(z)))
        return F.binary_cross_entropy_with_logits(logits, np.ones(logits.shape))

    def train_step(self, batch) -> dict:
        """One discriminator update on the real ``batch`` and as many fakes, then one
        generator update on fresh noise; returns the step's logs."""
        x = batch[0]
        d_logs = self.discriminator_step(x)
        if d_logs is None:
            return self._nan_logs()
        g_loss = self.generator_step(len(x))
        if g_loss is None:
            return self._nan_logs()
        return {"d_loss": d_logs[0], "g_loss": g_loss, "d_real": d_logs[1], "d_fake": d_logs[2]}

    def discriminator_step(self, x):
        """Update D on real ``x`` and ``len(x)`` fakes (G untouched); returns (d_loss, mean
        D(x), mean D(G(z))), or None when the loss is not finite and ``on_nan='stop'``."""
        with no_grad():  # the fakes are constants for the discriminator step
            fake = self.generator(Tensor(self.noise(len(x))))
        d_loss, real_logits, fake_logits = self.discriminator_loss(Tensor(x), fake)
        if not self._finite("d_loss", d_loss):
            return None
        self.d_optimizer.zero_grad()
        d_loss.backward()
        self.d_optimizer.step()
        return d_loss.item(), _mean_probability(real_logits), _mean_probability(fake_logits)

    def generator_step(self, n: int):
        """Update G on ``n`` fresh noise vectors (D's parameters frozen); returns g_loss, or
        None when it is not finite and ``on_nan='stop'``."""
        with _frozen(self.discriminator):  # gradients flow through D, not into its weights
            g_loss = self.generator_loss(Tensor(self.noise(n)))
            if not self._finite("g_loss", g_loss):
                return None
            self.g_optimizer.zero_grad()
            g_loss.backward()
        self.g_optimizer.step()
        return g_loss.item()

    def test_step(self, batch) -> dict:
        """Both losses on ``batch`` and fresh noise, without updates."""
        with no_grad():
            fake = self.generator(Tensor(self.noise(len(batch[0]))))
            d_loss, real_logits, fake_logits = self.discriminator_loss(Tensor(batch[0]), fake)
            g_loss = self.generator_loss(Tensor(self.noise(len(batch[0]))))
        return {
            "d_loss": d_loss.item(),
            "g_loss": g_loss.item(),
            "d_real": _mean_probability(real_logits),
            "d_fake": _mean_probability(fake_logits),
        }

    def _finite(self, name: str, loss) -> bool:
        if np.isfinite(loss.item()):
            return True
        if self.on_nan == "raise":
            raise FloatingPointError(
                f"GAN {name} is {loss.item()}: training diverged (lower the learning rates, "
                "add label smoothing, or compile with on_nan='stop' to end training instead)"
            )
        self.stop_training = True
        return False

    def _nan_logs(self) -> dict:
        return {k: float("nan") for k in ("d_loss", "g_loss", "d_real", "d_fake")}

    @staticmethod
    def _check_logits(logits):
        if logits.ndim > 2 or (logits.ndim == 2 and logits.shape[1] != 1):
            raise ValueError(
                f"GAN discriminator must output one logit per sample, (N, 1) or (N,), got "
                f"{tuple(logits.shape)}"
            )
        return logits

    # ---- generating -------------------------------------------------------------------------
    def generate(self, n: int = None, rng=None, z=None, batch_size: int = 256) -> np.ndarray:
        """Samples G(z) in inference mode, for given ``z`` or ``n`` noise vectors drawn with
        ``rng`` (default: the model's Generator)."""
        if z is None:
            if n is None:
                raise ValueError("generate needs n (how many samples) or z (the noise)")
            z = self.noise(n, rng)
        z = np.asarray(z, dtype=backend.default_dtype())
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"z must have shape (N, {self.latent_dim}), got {z.shape}")
        with evaluating(self):
            parts = [
                self.generator(Tensor(z[i : i + batch_size])).data
                for i in range(0, len(z), batch_size)
            ]
        return np.concatenate(parts)


def _mean_probability(logits) -> float:
    """Mean of sigmoid(logits), in the overflow-free form (1 + tanh(x / 2)) / 2."""
    return float(np.mean(0.5 * (1.0 + np.tanh(0.5 * logits.data))))


@contextlib.contextmanager
def _frozen(module: Module):
    """Parameters of ``module`` record no gradient inside the block (saves D's weight
    gradients in the generator step and leaves D's .grad untouched)."""
    params = module.parameters()
    flags = [p.requires_grad for p in params]
    for p in params:
        p.requires_grad = False
    try:
        yield
    finally:
        for p, flag in zip(params, flags, strict=True):
            p.requires_grad = flag


class SampleSnapshots(Callback):
    """Record G(z) for fixed noise ``z`` at the end of every ``every``-th epoch (and the
    last), for a samples-over-training figure. ``snapshots`` maps epoch (1-based) to images.
    """

    def __init__(self, z, every: int = 1):
        super().__init__()
        self.z, self.every = np.asarray(z), max(1, int(every))
        self.snapshots: dict[int, np.ndarray] = {}

    def on_epoch_end(self, epoch, logs=None):
        last = epoch + 1 == self.params.get("epochs")
        if (epoch + 1) % self.every == 0 or last:
            self.snapshots[epoch + 1] = self.model.generate(z=self.z)


# ---- networks -------------------------------------------------------------------------------


def dense_generator(latent_dim: int, image_shape=(1, 8, 8), hidden=(128, 256), rng=None):
    """Linear + LeakyReLU(0.2) per ``hidden`` size, Linear to the pixels, Sigmoid (samples in
    [0, 1], the data's range), reshaped to ``image_shape``."""
    sizes, image_shape = [int(latent_dim), *hidden], tuple(image_shape)
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [Linear(n_in, n_out, rng=rng), LeakyReLU(0.2)]
    layers += [Linear(sizes[-1], int(np.prod(image_shape)), rng=rng), Sigmoid()]
    return Sequential(*layers, Unflatten(1, image_shape))


def dense_discriminator(image_shape=(1, 8, 8), hidden=(256, 128), rng=None):
    """Flatten, Linear + LeakyReLU(0.2) per ``hidden`` size, Linear to one logit."""
    sizes = [int(np.prod(image_shape)), *hidden]
    layers = [Flatten()]
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [Linear(n_in, n_out, rng=rng), LeakyReLU(0.2)]
    return Sequential(*layers, Linear(sizes[-1], 1, rng=rng))


def dcgan_generator(latent_dim: int, image_shape=(1, 8, 8), channels=(128, 64), rng=None):
    """DCGAN's generator: Linear to a (channels[0], H/4, W/4) map with BatchNorm and ReLU,
    a 4x4 stride-2 ConvTranspose2d doubling the size (BatchNorm, ReLU), another to the
    image's channels and size, Sigmoid. H and W divisible by 4 (8x8 digits, 28x28 images)."""
    c, h, w = _image_shape(image_shape)
    c1, c2 = channels
    cells = c1 * (h // 4) * (w // 4)
    return Sequential(
        Linear(latent_dim, cells, bias=False, rng=rng),
        BatchNorm1d(cells),
        ReLU(),
        Unflatten(1, (c1, h // 4, w // 4)),
        ConvTranspose2d(c1, c2, 4, stride=2, padding=1, bias=False, rng=rng),
        BatchNorm2d(c2),
        ReLU(),
        ConvTranspose2d(c2, c, 4, stride=2, padding=1, rng=rng),
        Sigmoid(),
    )


def dcgan_discriminator(image_shape=(1, 8, 8), channels=(64, 128), rng=None):
    """DCGAN's discriminator: 4x4 stride-2 Conv2d halving the size with LeakyReLU(0.2), a
    second with BatchNorm, Flatten, Linear to one logit (no pooling anywhere)."""
    c, h, w = _image_shape(image_shape)
    c1, c2 = channels
    return Sequential(
        Conv2d(c, c1, 4, stride=2, padding=1, rng=rng),
        LeakyReLU(0.2),
        Conv2d(c1, c2, 4, stride=2, padding=1, bias=False, rng=rng),
        BatchNorm2d(c2),
        LeakyReLU(0.2),
        Flatten(),
        Linear(c2 * (h // 4) * (w // 4), 1, rng=rng),
    )


def _image_shape(shape) -> tuple:
    shape = tuple(int(s) for s in shape)
    if len(shape) != 3 or shape[1] % 4 or shape[2] % 4:
        raise ValueError(
            f"DCGAN networks need an image shape (channels, height, width) with height and "
            f"width divisible by 4, got {shape}; e.g. (1, 8, 8) or (1, 28, 28)"
        )
    return shape


def dense_gan(latent_dim: int = 16, image_shape=(1, 8, 8), seed=None) -> GAN:
    """A GAN of ``dense_generator`` and ``dense_discriminator`` (weights seeded by ``seed``)."""
    rng = None if seed is None else np.random.default_rng([int(seed), 1])
    return GAN(
        dense_generator(latent_dim, image_shape, rng=rng),
        dense_discriminator(image_shape, rng=rng),
        latent_dim,
        seed=seed,
        name="dense_gan",
    )


def dcgan(latent_dim: int = 16, image_shape=(1, 8, 8), seed=None) -> GAN:
    """A GAN of ``dcgan_generator`` and ``dcgan_discriminator`` (weights seeded by ``seed``)."""
    rng = None if seed is None else np.random.default_rng([int(seed), 1])
    return GAN(
        dcgan_generator(latent_dim, image_shape, rng=rng),
        dcgan_discriminator(image_shape, rng=rng),
        latent_dim,
        seed=seed,
        name="dcgan",
    )
