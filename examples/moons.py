"""Seed 001's from-scratch [2, 10, 8, 1] network on two moons: full-batch gradient descent,
then momentum + L2 + dropout (and without dropout); probability maps of the decision boundary.

    python examples/moons.py [--quick]       # plots in outputs/moons/
"""

import sys

from nnlab.experiments import moons

if __name__ == "__main__":
    moons.run(quick="--quick" in sys.argv)
