"""PyTorch-style layers: Module, Parameter and the layer classes."""

from nnlab.nn.module import Module, Parameter

__all__ = ["Module", "Parameter"]
