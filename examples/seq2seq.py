"""Sequence-to-sequence with attention: a Transformer and a GRU with Bahdanau/Luong attention
on sequence reversal, sorting and date normalisation ("21 Nov 2026" -> "2026-11-21");
exact match, cross-attention alignment, greedy vs beam search, attention heatmaps.

    python examples/seq2seq.py [--quick]          # plots in outputs/seq2seq/
"""

import sys

from nnlab.experiments import seq2seq

if __name__ == "__main__":
    seq2seq.run(quick="--quick" in sys.argv)
