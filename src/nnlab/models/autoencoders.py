"""Autoencoders: vanilla and denoising, dense and convolutional (the sparse and contractive
ones, dense, are in ``regularized_autoencoders``).

An autoencoder is an encoder ``z = E(x)`` and a decoder ``x_hat = D(z)`` trained to give back
its input. Each class here is a Keras-style ``Model``; train it on the input alone or on
(input, target) pairs::

    model = Autoencoder((1, 8, 8), code_size=8, hidden=(128, 64))
    model.compile("adam", "mse")
    model.fit(x, epochs=50)          # target = x (the same as fit(x, x))
    codes = model.encode(x)          # (N, 8) NumPy codes, no gradients, inference mode

Whenever ``y`` is None the target is the input. A denoising model corrupts its input inside
``forward`` (training mode only), so ``fit(x)`` teaches it to map corrupted x back to clean x.
The regularised variants add their penalty to the compiled loss in ``compute_loss`` (the same
penalty is in the validation loss, as Keras adds activity regularizers to both).

``model.encoder`` and ``model.decoder`` are ``nn.Sequential`` modules usable on their own;
the encoder is the front of a classifier as is, e.g.
``Sequential([model.encoder, Dense(10, activation="softmax")])`` (its weights are shared, so
training the classifier fine-tunes them). Dense models flatten image input inside the
encoder and reshape the output back to the input's shape.
"""

from collections import OrderedDict

import numpy as np

from nnlab import backend, nn
from nnlab.autograd.tensor import Tensor
from nnlab.models.noise import NOISE_TYPES, corrupt
from nnlab.nn.activation import get as activation_module
from nnlab.nn.module import evaluating, register
from nnlab.training import Model
from nnlab.training.data import as_input

# ---- building blocks --------------------------------------------------------------------------


def _dense_stack(sizes, activation, last_activation, rng, first=None, last=None):
    """OrderedDict for nn.Sequential: Linear layers through ``sizes``, ``activation`` between
    them and ``last_activation`` after the final one ('code'/'output' names that layer)."""
    layers = OrderedDict([first] if first else [])
    for i, (n_in, n_out) in enumerate(zip(sizes[:-2], sizes[1:-1], strict=True)):
        layers[f"dense{i}"] = nn.Linear(n_in, n_out, rng=rng)
        layers[f"act{i}"] = activation_module(activation)
    name = last[0] if last else "out"
    layers[name] = nn.Linear(sizes[-2], sizes[-1], rng=rng)
    if last_activation is not None:
        layers[f"{name}_act"] = activation_module(last_activation)
    return layers


def _shape(input_shape) -> tuple:
    shape = (input_shape,) if isinstance(input_shape, int | np.integer) else tuple(input_shape)
    if not shape or not all(isinstance(d, int | np.integer) and d > 0 for d in shape):
        raise ValueError(
            f"input_shape must be a positive int or a tuple of them (one sample, no batch "
            f"axis), e.g. 64 or (1, 8, 8); got {input_shape!r}"
        )
    return tuple(int(d) for d in shape)


# ---- shared mechanics ---------------------------------------------------------------------------


class _AutoencoderBase(Model):
    """Training and inference common to every autoencoder; subclasses assign ``encoder``
    and ``decoder`` (``nn.Sequential``) in ``__init__`` and may override ``corrupt_input``
    and ``penalty``."""

    def __init__(self, input_shape, code_size, seed=None, name=None):
        super().__init__(name=name, seed=seed)
        self.input_shape, self.code_size, self.seed = _shape(input_shape), int(code_size), seed
        if self.code_size < 1:
            raise ValueError(f"code_size must be a positive integer, got {code_size!r}")
        self._code = self._encoder_input = None  # kept from the last forward for penalty()
        self.built = True  # no lazily built layers

    def forward(self, x):
        x = self._check_input(x if isinstance(x, Tensor) else Tensor(np.asarray(x)))
        x = self.corrupt_input(x)
        self._encoder_input = x
        self._code = self.encoder(x)
        return self.decoder(self._code)

    def corrupt_input(self, x: Tensor) -> Tensor:
        """The input the encoder sees: ``x`` itself (denoising models add noise)."""
        return x

    def penalty(self):
        """The regularisation term of the last forward pass, or None."""
        return None

    def compute_loss(self, y, y_pred, sample_weight=None) -> Tensor:
        """The compiled reconstruction loss, the layers' penalties and ``penalty()``."""
        loss = super().compute_loss(y, y_pred, sample_weight)
        extra = self.penalty()
        self._code = self._encoder_input = None  # release the graph they hold
        return loss if extra is None else loss + extra

    def train_step(self, batch) -> dict:
        return super().train_step(_self_supervised(batch))

    def test_step(self, batch) -> dict:
        return super().test_step(_self_supervised(batch))

    def encode(self, x, batch_size: int = 256) -> np.ndarray:
        """Codes of ``x`` (N, *input_shape) -> (N, code_size): inference mode, no noise,
        no gradients."""
        x = self._check_input(as_input(x, self._dtype()))
        return self._run(self.encoder, x, batch_size)

    def decode(self, z, batch_size: int = 256) -> np.ndarray:
        """Outputs decoded from codes ``z`` (N, code_size) -> (N, *input_shape)."""
        z = as_input(z, self._dtype())
        if z.ndim != 2 or z.shape[1] != self.code_size:
            raise ValueError(
                f"{type(self).__name__}.decode expects codes of shape (N, {self.code_size}), "
                f"got {z.shape}; for one code use z[None]"
            )
        return self._run(self.decoder, z, batch_size)

    def _run(self, module, x, batch_size) -> np.ndarray:
        if len(x) == 0:
            raise ValueError(f"{type(self).__name__} got no samples")
        with evaluating(self):
            parts = [
                module(Tensor(x[i : i + batch_size])).data for i in range(0, len(x), batch_size)
            ]
        return np.concatenate(parts)

    def _dtype(self):
        return self.parameters()[0].dtype

    def _check_input(self, x):
        if tuple(x.shape[1:]) != self.input_shape:
            raise ValueError(
                f"{type(self).__name__} '{self.name}' expects input of shape (N, "
                f"{', '.join(map(str, self.input_shape))}), got {tuple(x.shape)}; reshape with "
                f"x.reshape(-1, *{self.input_shape}) or build the model with input_shape="
                f"{tuple(x.shape[1:])}"
            )
        return x

    def _base_config(self) -> dict:
        seed = None if self.seed is None else int(self.seed)
        return {
            "input_shape": list(self.input_shape),
            "code_size": self.code_size,
            "seed": seed,
            "name": self.name,
        }


def _self_supervised(batch) -> tuple:
    """(x, y, w) with the input as the target when no y was given (``fit(x)``)."""
    x, y, sample_weight = batch
    return x, (x if y is None else y), sample_weight


# ---- vanilla: dense and convolutional -----------------------------------------------------------


@register
class Autoencoder(_AutoencoderBase):
    """Dense autoencoder: x -> Flatten -> hidden... -> code -> ...hidden -> x_hat.

    The decoder mirrors the encoder's hidden sizes and reshapes to the input's shape. The
    loss is the compiled one, e.g. 'mse': ``L = mean ||x - D(E(x))||^2``.

    Args:
        input_shape: one sample's shape, e.g. 64 or (1, 8, 8) (images are flattened).
        code_size: size of the code (the bottleneck).
        hidden: encoder hidden sizes, e.g. (128, 64); the decoder uses them reversed.
        activation: of the hidden layers.
        code_activation: of the code layer (None: a linear code).
        output_activation: of the reconstruction ('sigmoid' for data in [0, 1], or None).
        seed: seed of the initial weights and of fit's shuffling (None: library Generator).
        name: the model's name.

    Shape:
        x (N, *input_shape) -> x_hat (N, *input_shape); codes (N, code_size).
    """

    def __init__(
        self,
        input_shape,
        code_size: int = 8,
        hidden=(128,),
        activation="relu",
        code_activation=None,
        output_activation="sigmoid",
        seed=None,
        name=None,
    ):
        super().__init__(input_shape, code_size, seed, name)
        self.hidden = tuple(int(h) for h in hidden)
        self.activation, self.code_activation = activation, code_activation
        self.output_activation = output_activation
        rng = backend.get_generator(seed)
        sizes = (int(np.prod(self.input_shape)), *self.hidden, self.code_size)
        flatten = ("flatten", nn.Flatten())
        self.encoder = nn.Sequential(
            _dense_stack(sizes, activation, code_activation, rng, flatten, ("code",))
        )
        decoder = _dense_stack(sizes[::-1], activation, output_activation, rng, last=("output",))
        decoder["reshape"] = nn.Unflatten(1, self.input_shape)
        self.decoder = nn.Sequential(decoder)

    def get_config(self) -> dict:
        return {
            **self._base_config(),
            "hidden": list(self.hidden),
            "activation": self.activation,
            "code_activation": self.code_activation,
            "output_activation": self.output_activation,
        }


@register
class ConvAutoencoder(_AutoencoderBase):
    """Convolutional autoencoder for (C, H, W) images.

    Encoder: per entry of ``filters`` a stride-2 ``Conv2d`` (padding kernel_size // 2,
    roughly halving H and W) and ``activation``; Flatten; Linear to the code. Decoder: Linear
    back to the last feature map, then stride-2 ``ConvTranspose2d`` layers in reverse (the
    output padding of each chosen so every size is restored exactly), the last one to C
    channels with ``output_activation``.

    Args:
        input_shape: (channels, height, width) of one image.
        code_size: size of the code.
        filters: channels of the encoder's convolutions, e.g. (16, 32).
        kernel_size: odd or even int, the same for every convolution.
        activation, code_activation, output_activation, seed, name: as ``Autoencoder``.

    Shape:
        x (N, C, H, W) -> x_hat (N, C, H, W); codes (N, code_size).
    """

    def __init__(
        self,
        input_shape=(1, 28, 28),
        code_size: int = 16,
        filters=(16, 32),
        kernel_size: int = 3,
        activation="relu",
        code_activation=None,
        output_activation="sigmoid",
        seed=None,
        name=None,
    ):
        super().__init__(input_shape, code_size, seed, name)
        if len(self.input_shape) != 3:
            raise ValueError(
                f"ConvAutoencoder needs input_shape (channels, height, width), got "
                f"{input_shape!r}; for flat vectors use Autoencoder"
            )
        self.filters, self.kernel_size = tuple(int(f) for f in filters), int(kernel_size)
        self.activation, self.code_activation = activation, code_activation
        self.output_activation = output_activation
        self.encoder, self.decoder = self._conv_networks(backend.get_generator(seed))

    def _conv_networks(self, rng):
        channels = (self.input_shape[0], *self.filters)
        k, pad = self.kernel_size, self.kernel_size // 2
        sizes = [self.input_shape[1:]]  # (H, W) after each convolution
        for _ in self.filters:
            sizes.append(tuple((s + 2 * pad - k) // 2 + 1 for s in sizes[-1]))
        if min(sizes[-1]) < 1:
            raise ValueError(
                f"{len(self.filters)} stride-2 convolutions shrink {self.input_shape} to nothing"
            )
        enc, dec = OrderedDict(), OrderedDict()
        for i, (c_in, c_out) in enumerate(zip(channels[:-1], channels[1:], strict=True)):
            enc[f"conv{i}"] = nn.Conv2d(c_in, c_out, k, stride=2, padding=pad, rng=rng)
            enc[f"act{i}"] = activation_module(self.activation)
        features = channels[-1] * sizes[-1][0] * sizes[-1][1]
        enc["flatten"], enc["code"] = nn.Flatten(), nn.Linear(features, self.code_size, rng=rng)
        if self.code_activation is not None:
            enc["code_act"] = activation_module(self.code_activation)
        dec["dense"] = nn.Linear(self.code_size, features, rng=rng)
        dec["act"] = activation_module(self.activation)
        dec["reshape"] = nn.Unflatten(1, (channels[-1], *sizes[-1]))
        for i in reversed(range(len(self.filters))):
            natural = [(s - 1) * 2 - 2 * pad + k for s in sizes[i + 1]]
            extra = tuple(t - n for t, n in zip(sizes[i], natural, strict=True))
            dec[f"deconv{i}"] = nn.ConvTranspose2d(
                channels[i + 1], channels[i], k, 2, pad, output_padding=extra, rng=rng
            )
            last = i == 0
            act = self.output_activation if last else self.activation
            if act is not None:
                dec["output_act" if last else f"act{i}"] = activation_module(act)
        return nn.Sequential(enc), nn.Sequential(dec)

    def get_config(self) -> dict:
        return {
            **self._base_config(),
            "filters": list(self.filters),
            "kernel_size": self.kernel_size,
            "activation": self.activation,
            "code_activation": self.code_activation,
            "output_activation": self.output_activation,
        }


# ---- denoising ----------------------------------------------------------------------------------


class _Denoising:
    """Mixin: corrupt the encoder's input with ``corrupt`` in training mode only, drawing
    from the model's own ``noise_rng`` (seeded from ``seed``, a stream apart from the
    weights' and the shuffling's)."""

    def _init_noise(self, noise, noise_level, noise_clip):
        if noise not in NOISE_TYPES:
            raise ValueError(f"noise must be one of {NOISE_TYPES}, got {noise!r}")
        self.noise, self.noise_level = noise, float(noise_level)
        self.noise_clip = None if noise_clip is None else tuple(float(v) for v in noise_clip)
        corrupt(np.zeros(1), noise, self.noise_level, np.random.default_rng(0))  # validates
        seed = self.seed
        self.noise_rng = (
            backend.get_generator() if seed is None else np.random.default_rng([int(seed), 1])
        )

    def corrupt_input(self, x: Tensor) -> Tensor:
        if not self.training or self.noise_level == 0:
            return x
        return Tensor(
            corrupt(x.data, self.noise, self.noise_level, self.noise_rng, self.noise_clip)
        )

    def get_config(self) -> dict:
        clip = None if self.noise_clip is None else list(self.noise_clip)
        return {
            **super().get_config(),
            "noise": self.noise,
            "noise_level": self.noise_level,
            "noise_clip": clip,
        }


@register
class DenoisingAutoencoder(_Denoising, Autoencoder):
    """Dense autoencoder trained to reconstruct clean x from a corrupted copy (Vincent et al.
    2008): the loss compares ``D(E(corrupt(x)))`` with x. Noise is added only in training
    mode; ``predict``, ``evaluate``, ``encode`` see the input as given.

    Args:
        input_shape: as ``Autoencoder``.
        noise: 'gaussian', 'masking' or 'salt_and_pepper' (see ``corrupt``).
        noise_level: standard deviation ('gaussian') or fraction of corrupted elements.
        noise_clip: optional (min, max) for the corrupted input, e.g. (0, 1) for pixels.
        **kwargs: the other ``Autoencoder`` arguments (code_size, hidden, seed, ...).
    """

    def __init__(self, input_shape, noise="gaussian", noise_level=0.3, noise_clip=None, **kwargs):
        super().__init__(input_shape, **kwargs)
        self._init_noise(noise, noise_level, noise_clip)


@register
class ConvDenoisingAutoencoder(_Denoising, ConvAutoencoder):
    """``ConvAutoencoder`` trained on corrupted images; noise arguments as
    ``DenoisingAutoencoder``."""

    def __init__(
        self, input_shape=(1, 28, 28), noise="gaussian", noise_level=0.3, noise_clip=None, **kwargs
    ):
        super().__init__(input_shape, **kwargs)
        self._init_noise(noise, noise_level, noise_clip)
