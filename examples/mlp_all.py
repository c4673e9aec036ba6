"""Every seed MLP experiment in turn, then one table: our results next to the seeds' own.
The same as ``nnlab demo mlp``.

    python examples/mlp_all.py [--quick]     # plots in outputs/<experiment>/
"""

import sys

from nnlab.experiments.mlp_demos import run_all

if __name__ == "__main__":
    run_all(quick="--quick" in sys.argv)
