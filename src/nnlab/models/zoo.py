"""Ready-made convolutional networks (Keras-style, channels-first NCHW).

Every builder returns an unbuilt-then-built ``Sequential`` (built on ``input_shape``, so
``summary()`` shows output shapes at once) ending in a softmax over ``num_classes``; pass
``output_activation=None`` for logits (then compile with ``from_logits=True``). ``seed``
makes the initial weights and the dropout masks reproducible: every layer draws from one
Generator seeded with it (default: the library's Generator).

- ``lenet5``: LeCun et al. (1998) as the seeds sketch it: Conv(6, 5x5, 'same') - pool -
  Conv(16, 5x5) - pool - Dense 120 - Dense 84 - classes.
- ``cifar_cnn``: the Keras CIFAR-10 network of seed 001, layer for layer.
- ``small_vgg``: VGG's recipe (Simonyan & Zisserman, 2014) scaled down: blocks of 3x3
  convolutions followed by 2x2 max pooling, then dense layers.
- ``small_resnet``: a ResNet (He et al., 2015) for small images: a 3x3 stem, stages of
  ``ResidualBlock``s (the first block of each later stage halves the size), global average
  pooling, one dense layer.
"""

import numpy as np

from nnlab import functional as F
from nnlab.layers import (
    Activation,
    AveragePooling2D,
    BatchNormalization,
    Dense,
    Dropout,
    Flatten,
    GlobalAveragePooling2D,
    Layer,
    MaxPooling2D,
)
from nnlab.layers.conv import Conv2D
from nnlab.nn.module import register
from nnlab.training import Sequential

_POOLING = {"max": MaxPooling2D, "avg": AveragePooling2D, "average": AveragePooling2D}


def _layer_kwargs(seed) -> dict:
    """Keyword arguments giving every layer of a model the same seeded Generator."""
    return {} if seed is None else {"rng": np.random.default_rng(seed)}


def lenet5(
    input_shape=(1, 28, 28),
    num_classes: int = 10,
    activation: str = "relu",
    pooling: str = "max",
    output_activation="softmax",
    seed=None,
) -> Sequential:
    """LeNet-5: two convolution + pooling stages and three dense layers.

    The first convolution pads 'same' (the 1998 network padded its 32x32 input instead), so
    a 28x28 image gives 6@28x28, 6@14x14, 16@10x10, 16@5x5 and 400 features. The 1998
    network used tanh-like units and average pooling (``activation='tanh', pooling='avg'``);
    the defaults are seed 000's ReLU and max pooling.

    Args:
        input_shape: (channels, height, width) of one image.
        num_classes: outputs of the last layer.
        activation: of the convolutions and the hidden dense layers.
        pooling: 'max' or 'avg' (2x2 windows, stride 2).
        output_activation: 'softmax' (default) or None for logits.
        seed: seed of the initial weights.
    """
    pool, kw = _pool_class(pooling), _layer_kwargs(seed)
    layers = [
        Conv2D(6, 5, padding="same", activation=activation, **kw),
        pool(2, **kw),
        Conv2D(16, 5, activation=activation, **kw),
        pool(2, **kw),
        Flatten(**kw),
        Dense(120, activation=activation, **kw),
        Dense(84, activation=activation, **kw),
        Dense(num_classes, activation=output_activation, **kw),
    ]
    return Sequential(layers, input_shape=input_shape, name="lenet5", seed=seed)


def cifar_cnn(
    input_shape=(3, 32, 32),
    num_classes: int = 10,
    output_activation="softmax",
    seed=None,
) -> Sequential:
    """Seed 001's Keras CIFAR-10 network, channels first, layer for layer.

    Two blocks Conv(f, 3x3) - BatchNorm - Conv(f, 3x3) - MaxPool(2) - Dropout(0.25) with
    f = 32, 64, then Conv(128, 3x3) - BatchNorm - Dropout(0.25) (the seed's third block has
    no second convolution and no pooling), Flatten, Dense(512) - BatchNorm - Dropout(0.5),
    Dense(classes). Convolutions are 'valid' with ReLU, as in the seed: a 32x32 input gives
    30, 28, 14, 12, 10, 5, 3, so 128 * 3 * 3 = 1152 features reach the dense layer.
    """
    kw = _layer_kwargs(seed)
    layers = []
    for filters in (32, 64):
        layers += [
            Conv2D(filters, 3, activation="relu", **kw),
            BatchNormalization(**kw),
            Conv2D(filters, 3, activation="relu", **kw),
            MaxPooling2D(2, **kw),
            Dropout(0.25, **kw),
        ]
    layers += [
        Conv2D(128, 3, activation="relu", **kw),
        BatchNormalization(**kw),
        Dropout(0.25, **kw),
        Flatten(**kw),
        Dense(512, activation="relu", **kw),
        BatchNormalization(**kw),
        Dropout(0.5, **kw),
        Dense(num_classes, activation=output_activation, **kw),
    ]
    return Sequential(layers, input_shape=input_shape, name="cifar_cnn", seed=seed)


def small_vgg(
    input_shape=(3, 32, 32),
    num_classes: int = 10,
    filters=(32, 64, 128),
    convs_per_block: int = 2,
    dense_units: int = 256,
    dropout: float = 0.5,
    batch_norm: bool = False,
    output_activation="softmax",
    seed=None,
) -> Sequential:
    """A small VGG: per entry of ``filters``, ``convs_per_block`` 3x3 'same' ReLU
    convolutions (each followed by BatchNorm when ``batch_norm``) and a 2x2 max pooling;
    then Flatten, Dense(``dense_units``, ReLU), Dropout(``dropout``), Dense(classes)."""
    kw = _layer_kwargs(seed)
    layers = []
    for f in filters:
        for _ in range(convs_per_block):
            layers.append(Conv2D(f, 3, padding="same", activation="relu", **kw))
            if batch_norm:
                layers.append(BatchNormalization(**kw))
        layers.append(MaxPooling2D(2, **kw))
    layers += [Flatten(**kw), Dense(dense_units, activation="relu", **kw)]
    if dropout:
        layers.append(Dropout(dropout, **kw))
    layers.append(Dense(num_classes, activation=output_activation, **kw))
    return Sequential(layers, input_shape=input_shape, name="small_vgg", seed=seed)


def small_resnet(
    input_shape=(3, 32, 32),
    num_classes: int = 10,
    filters=(16, 32, 64),
    blocks_per_stage: int = 1,
    output_activation="softmax",
    seed=None,
) -> Sequential:
    """A small ResNet: Conv(filters[0], 3x3) - BatchNorm - ReLU, then one stage of
    ``blocks_per_stage`` ResidualBlocks per entry of ``filters`` (every stage after the
    first starts with stride 2 and a 1x1 projection shortcut), global average pooling and
    Dense(classes)."""
    kw = _layer_kwargs(seed)
    layers = [
        Conv2D(filters[0], 3, padding="same", use_bias=False, **kw),
        BatchNormalization(**kw),
        Activation("relu", **kw),
    ]
    for stage, f in enumerate(filters):
        for block in range(blocks_per_stage):
            strides = 2 if stage > 0 and block == 0 else 1
            layers.append(ResidualBlock(f, strides=strides, **kw))
    layers += [
        GlobalAveragePooling2D(**kw),
        Dense(num_classes, activation=output_activation, **kw),
    ]
    return Sequential(layers, input_shape=input_shape, name="small_resnet", seed=seed)


def _pool_class(pooling: str):
    if pooling not in _POOLING:
        raise ValueError(f"pooling must be one of {sorted(_POOLING)}, got {pooling!r}")
    return _POOLING[pooling]


@register
class ResidualBlock(Layer):
    """The basic residual block of He et al. (2015):

        y = relu(BN(conv3x3(x, stride)));  y = BN(conv3x3(y));  out = relu(y + shortcut(x))

    with ``shortcut(x) = x`` when the shapes agree, otherwise a 1x1 convolution with the
    same stride followed by BatchNorm (a projection shortcut). Convolutions have no bias
    (BatchNorm's shift replaces it); padding is 'same', so stride 1 keeps the size and
    stride 2 halves it (rounding up).

    Args:
        filters: output channels.
        strides: stride of the first convolution and of the shortcut.
        name, dtype, rng: see ``Layer``.

    Shape:
        (N, C, H, W) -> (N, filters, ceil(H / strides), ceil(W / strides))
    """

    def __init__(self, filters: int, strides: int = 1, **base):
        super().__init__(**base)
        if int(filters) <= 0 or int(strides) <= 0:
            raise ValueError(
                f"ResidualBlock needs positive filters and strides, got filters={filters}, "
                f"strides={strides}"
            )
        self.filters, self.strides = int(filters), int(strides)
        sub = {"dtype": self.dtype, "rng": self.rng}
        conv = {"padding": "same", "use_bias": False, **sub}
        self.conv1 = Conv2D(self.filters, 3, strides=self.strides, **conv)
        self.bn1 = BatchNormalization(**sub)
        self.conv2 = Conv2D(self.filters, 3, **conv)
        self.bn2 = BatchNormalization(**sub)
        self.projection = None

    def build(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(
                f"ResidualBlock '{self.name}' expects images (N, C, H, W), got input of shape "
                f"{tuple(input_shape)}"
            )
        if input_shape[1] != self.filters or self.strides != 1:
            sub = {"dtype": self.dtype, "rng": self.rng}
            self.shortcut_conv = Conv2D(
                self.filters, 1, strides=self.strides, use_bias=False, padding="same", **sub
            )
            self.shortcut_bn = BatchNormalization(**sub)
            self.projection = True
        else:
            self.projection = False

    def call(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        shortcut = self.shortcut_bn(self.shortcut_conv(x)) if self.projection else x
        return F.relu(y + shortcut)

    def receptive_field_specs(self) -> list:
        """The longest path (the two 3x3 convolutions), for ``receptive_field``."""
        conv = {"kind": "conv", "kernel": 3, "padding": "same"}
        return [
            {"name": f"{self.name}.conv1", "stride": self.strides, **conv},
            {"name": f"{self.name}.conv2", "stride": 1, **conv},
        ]

    def get_config(self) -> dict:
        return {**self.base_config(), "filters": self.filters, "strides": self.strides}

    def extra_repr(self) -> str:
        return f"filters={self.filters}, strides={self.strides}, name={self.name!r}"
