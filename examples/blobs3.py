"""Seed 000's [2, 10, 10, 3] ReLU MLP on 3-class 2-D data (SGD lr 0.01, 1000 epochs): train
and test accuracy, the class regions, the training curves.

    python examples/blobs3.py [--quick]      # plots in outputs/blobs3/
"""

import sys

from nnlab.experiments import blobs3

if __name__ == "__main__":
    blobs3.run(quick="--quick" in sys.argv)
