"""Keras-style training: Model (compile/fit/evaluate/predict), Sequential and callbacks."""

from nnlab.training import callbacks
from nnlab.training.model import Model
from nnlab.training.sequential import Sequential

__all__ = ["Model", "Sequential", "callbacks"]
