"""Real datasets available offline, file readers and image augmentation.

Nothing here downloads at run time, and no file is ever unpickled: IDX and CIFAR-10 binary
files are parsed byte by byte, with their declared sizes checked before allocating.
"""

from nnlab.data.augment import AugmentedBatches, ImageAugmenter
from nnlab.data.cifar import CIFAR10_CLASSES, load_cifar10, read_cifar10_binary
from nnlab.data.datasets import (
    FASHION_MNIST_CLASSES,
    fashion_mnist_available,
    load_digits_images,
    load_fashion_mnist,
)
from nnlab.data.idx import read_idx, write_idx

__all__ = [
    "CIFAR10_CLASSES",
    "FASHION_MNIST_CLASSES",
    "AugmentedBatches",
    "ImageAugmenter",
    "fashion_mnist_available",
    "load_cifar10",
    "load_digits_images",
    "load_fashion_mnist",
    "read_cifar10_binary",
    "read_idx",
    "write_idx",
]
