"""Seed 001's Keras-style 64-32-1 network with dropout on 20-feature binary data (Adam,
50 epochs, validation_split=0.2): train, validation and test accuracy, training curves.

    python examples/binary20.py [--quick]    # plots in outputs/binary20/
"""

import sys

from nnlab.experiments import binary20

if __name__ == "__main__":
    binary20.run(quick="--quick" in sys.argv)
