"""Handwritten digits: seed 000's [64, 128, 64, 10] MLP (SGD, 500 epochs) with a full
classification report, confusion matrix and sample predictions; the Small/Medium/Large
comparison; seed 002's sigmoid/tanh/ReLU/leaky-ReLU comparison.

    python examples/digits.py [--quick]      # plots in outputs/digits/
"""

import sys

from nnlab.experiments import digits

if __name__ == "__main__":
    digits.run(quick="--quick" in sys.argv)
