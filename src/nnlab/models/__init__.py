"""Ready-made models: the convolutional zoo (LeNet-5, the seeds' CIFAR network, small VGG
and ResNet), receptive-field arithmetic, a character-level LSTM language model, the
autoencoders (vanilla, denoising, sparse, contractive), the VAE and the GANs, and
sequence classifiers (Transformer, RNN) and sequence-to-sequence models (Transformer,
RNN with attention) with their decoders."""

from nnlab.models.autoencoders import (
    Autoencoder,
    ConvAutoencoder,
    ConvDenoisingAutoencoder,
    DenoisingAutoencoder,
)
from nnlab.models.char_lm import CharLSTM, bigram_perplexity, next_id, perplexity, sample
from nnlab.models.gan import (
    GAN,
    SampleSnapshots,
    dcgan,
    dcgan_discriminator,
    dcgan_generator,
    dense_discriminator,
    dense_gan,
    dense_generator,
)
from nnlab.models.noise import corrupt
from nnlab.models.receptive_field import LayerField, ReceptiveFieldTable, receptive_field
from nnlab.models.regularized_autoencoders import (
    ContractiveAutoencoder,
    SparseAutoencoder,
    contractive_penalty,
    jacobian_frobenius_norm,
    sparsity_penalty,
)
from nnlab.models.seq2seq import RNNSeq2Seq, SequenceCrossentropy, TransformerSeq2Seq
from nnlab.models.seq2seq_decoding import beam_search, greedy_decode
from nnlab.models.sequence_classifier import RecurrentClassifier, TransformerClassifier
from nnlab.models.vae import (
    VAE,
    KLAnnealing,
    conv_vae,
    kl_annealing_weight,
    kl_divergence,
    reparameterize,
)
from nnlab.models.zoo import ResidualBlock, cifar_cnn, lenet5, small_resnet, small_vgg

__all__ = [
    "Autoencoder",
    "CharLSTM",
    "ContractiveAutoencoder",
    "ConvAutoencoder",
    "ConvDenoisingAutoencoder",
    "DenoisingAutoencoder",
    "GAN",
    "KLAnnealing",
    "LayerField",
    "RNNSeq2Seq",
    "ReceptiveFieldTable",
    "RecurrentClassifier",
    "ResidualBlock",
    "SampleSnapshots",
    "SequenceCrossentropy",
    "SparseAutoencoder",
    "TransformerClassifier",
    "TransformerSeq2Seq",
    "VAE",
    "beam_search",
    "bigram_perplexity",
    "cifar_cnn",
    "contractive_penalty",
    "conv_vae",
    "corrupt",
    "dcgan",
    "dcgan_discriminator",
    "dcgan_generator",
    "dense_discriminator",
    "dense_gan",
    "dense_generator",
    "greedy_decode",
    "jacobian_frobenius_norm",
    "kl_annealing_weight",
    "kl_divergence",
    "lenet5",
    "next_id",
    "perplexity",
    "receptive_field",
    "reparameterize",
    "sample",
    "small_resnet",
    "small_vgg",
    "sparsity_penalty",
]
