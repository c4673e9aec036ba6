"""Reverse-mode automatic differentiation: Function, Tensor, gradient mode and gradcheck."""

from nnlab.autograd.function import Function, unbroadcast
from nnlab.autograd.gradcheck import gradcheck
from nnlab.autograd.graph import is_grad_enabled, no_grad, set_grad_enabled
from nnlab.autograd.tensor import Tensor, apply

__all__ = [
    "Function",
    "Tensor",
    "apply",
    "gradcheck",
    "is_grad_enabled",
    "no_grad",
    "set_grad_enabled",
    "unbroadcast",
]
