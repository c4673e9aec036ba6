"""VAE, beta-VAE (KL annealing), GAN and DCGAN on scikit-learn's digits; 100 samples of each
judged by a separately trained digits classifier (classes covered, mean confidence);
sampling grids, samples over training, both players' losses.

    python examples/generative.py [--quick]       # plots in outputs/generative/
"""

import sys

from nnlab.experiments import generative

if __name__ == "__main__":
    generative.run(quick="--quick" in sys.argv)
