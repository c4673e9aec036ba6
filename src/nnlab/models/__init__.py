"""Ready-made models: the convolutional zoo (LeNet-5, the seeds' CIFAR network, small VGG
and ResNet), receptive-field arithmetic, and a character-level LSTM language model."""

from nnlab.models.char_lm import CharLSTM, bigram_perplexity, next_id, perplexity, sample
from nnlab.models.receptive_field import LayerField, ReceptiveFieldTable, receptive_field
from nnlab.models.zoo import ResidualBlock, cifar_cnn, lenet5, small_resnet, small_vgg

__all__ = [
    "CharLSTM",
    "LayerField",
    "ReceptiveFieldTable",
    "ResidualBlock",
    "bigram_perplexity",
    "cifar_cnn",
    "lenet5",
    "next_id",
    "perplexity",
    "receptive_field",
    "sample",
    "small_resnet",
    "small_vgg",
]
