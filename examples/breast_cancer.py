"""Seed 002's four architectures on the breast cancer data (0 = malignant, 1 = benign): the
seed's recipe (SGD lr 0.001) and an improved one (SGD lr 0.01 + L2 chosen on the validation
set), the classification report and an architecture comparison chart.

    python examples/breast_cancer.py [--quick]   # plots in outputs/breast_cancer/
"""

import sys

from nnlab.experiments import breast_cancer

if __name__ == "__main__":
    breast_cancer.run(quick="--quick" in sys.argv)
