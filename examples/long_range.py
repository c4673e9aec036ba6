"""The seeds' claim measured: SimpleRNN vs LSTM vs Transformer (about 9k parameters each, the
same budget) on a task whose label is the first token, against sequence length 10-200;
plus a Transformer sentiment classifier with negation against an LSTM and bag of words.

    python examples/long_range.py [--quick]       # plot in outputs/long_range/
"""

import sys

from nnlab.experiments import long_range

if __name__ == "__main__":
    long_range.run(quick="--quick" in sys.argv)
