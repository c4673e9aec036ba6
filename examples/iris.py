"""Seed 001's Keras-style 4-10-8-3 network with dropout on iris (Adam, validation_split=0.2):
two learning rates over several seeds, one chosen on validation accuracy, its classification
report and confusion matrix.

    python examples/iris.py [--quick]        # plots in outputs/iris/
"""

import sys

from nnlab.experiments import iris

if __name__ == "__main__":
    iris.run(quick="--quick" in sys.argv)
