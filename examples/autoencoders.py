"""Autoencoders on scikit-learn's digits: reconstruction against PCA at equal code sizes,
denoising (PSNR/SSIM), sparse and contractive codes, anomaly detection with a held-out
digit, the encoder as a feature extractor; latent scatter, interpolation, reconstructions.

    python examples/autoencoders.py [--quick]     # plots in outputs/autoencoders/
"""

import sys

from nnlab.experiments import autoencoders

if __name__ == "__main__":
    autoencoders.run(quick="--quick" in sys.argv)
