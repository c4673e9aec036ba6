"""Keras-style losses: per-sample functions by Keras name, Loss classes that weight and reduce
them, ``get`` to resolve a name, and ``class_weight_to_sample_weight``.

PyTorch-style loss modules live in ``nnlab.nn`` (``nn.CrossEntropyLoss``, ...), and the fused
functional forms in ``nnlab.functional`` (``F.cross_entropy``, ...).
"""

from nnlab.losses.classes import (
    BinaryCrossentropy,
    BinaryFocalCrossentropy,
    CategoricalCrossentropy,
    CategoricalFocalCrossentropy,
    Hinge,
    Huber,
    KLDivergence,
    Loss,
    LossFunctionWrapper,
    MeanAbsoluteError,
    MeanSquaredError,
    SparseCategoricalCrossentropy,
    SquaredHinge,
    deserialize,
    get,
    serialize,
)
from nnlab.losses.functions import (
    EPSILON,
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    hinge,
    huber,
    kl_divergence,
    kld,
    mae,
    mean_absolute_error,
    mean_squared_error,
    mse,
    sparse_categorical_crossentropy,
    squared_hinge,
)
from nnlab.losses.weights import class_weight_to_sample_weight

__all__ = [
    "EPSILON",
    "BinaryCrossentropy",
    "BinaryFocalCrossentropy",
    "CategoricalCrossentropy",
    "CategoricalFocalCrossentropy",
    "Hinge",
    "Huber",
    "KLDivergence",
    "Loss",
    "LossFunctionWrapper",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "SparseCategoricalCrossentropy",
    "SquaredHinge",
    "binary_crossentropy",
    "binary_focal_crossentropy",
    "categorical_crossentropy",
    "categorical_focal_crossentropy",
    "class_weight_to_sample_weight",
    "deserialize",
    "get",
    "hinge",
    "huber",
    "kl_divergence",
    "kld",
    "mae",
    "mean_absolute_error",
    "mean_squared_error",
    "mse",
    "serialize",
    "sparse_categorical_crossentropy",
    "squared_hinge",
]
