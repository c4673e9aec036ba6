"""Ready-made models: the convolutional zoo (LeNet-5, the seeds' CIFAR network, small VGG
and ResNet), receptive-field arithmetic, a character-level LSTM language model, and the
autoencoders (vanilla, denoising, sparse, contractive)."""

from nnlab.models.autoencoders import (
    Autoencoder,
    ConvAutoencoder,
    ConvDenoisingAutoencoder,
    DenoisingAutoencoder,
    corrupt,
)
from nnlab.models.char_lm import CharLSTM, bigram_perplexity, next_id, perplexity, sample
from nnlab.models.receptive_field import LayerField, ReceptiveFieldTable, receptive_field
from nnlab.models.regularized_autoencoders import (
    ContractiveAutoencoder,
    SparseAutoencoder,
    contractive_penalty,
    jacobian_frobenius_norm,
    sparsity_penalty,
)
from nnlab.models.zoo import ResidualBlock, cifar_cnn, lenet5, small_resnet, small_vgg

__all__ = [
    "Autoencoder",
    "CharLSTM",
    "ContractiveAutoencoder",
    "ConvAutoencoder",
    "ConvDenoisingAutoencoder",
    "DenoisingAutoencoder",
    "LayerField",
    "ReceptiveFieldTable",
    "ResidualBlock",
    "SparseAutoencoder",
    "bigram_perplexity",
    "cifar_cnn",
    "contractive_penalty",
    "corrupt",
    "lenet5",
    "jacobian_frobenius_norm",
    "next_id",
    "perplexity",
    "receptive_field",
    "sample",
    "small_resnet",
    "small_vgg",
    "sparsity_penalty",
]
