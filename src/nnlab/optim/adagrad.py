"""Adagrad: per-element learning rates shrinking with the sum of past squared gradients."""

import numpy as np

from nnlab.optim.optimizer import Optimizer, check_hyperparameters


class Adagrad(Optimizer):
    """Adagrad (``torch.optim.Adagrad``; Duchi, Hazan and Singer 2011).

    Algorithm, per parameter ``p`` with gradient ``g`` (``s`` starts at
    ``initial_accumulator_value``, ``t`` at 0)::

        t = t + 1
        if weight_decay != 0:  g = g + weight_decay * p
        clr = lr / (1 + (t - 1) * lr_decay)
        s = s + g^2
        p = p - clr * g / (sqrt(s) + eps)

    Args:
        params: parameters or parameter groups (see ``Optimizer``).
        lr: learning rate.
        lr_decay: learning-rate decay per step.
        weight_decay: L2 penalty added to the gradient.
        initial_accumulator_value: starting value of the squared-gradient sum.
        eps: added to the denominator for numerical stability.
        **options: ``clipvalue``, ``clipnorm``, ``global_clipnorm``, ``on_nonfinite``.

    State: ``step``, ``sum``.
    """

    _n_scratch = 2
    _chunkable = True
    _scalar_state = ("step",)

    def __init__(
        self,
        params=None,
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        **options,
    ):
        check_hyperparameters(
            lr=lr,
            lr_decay=lr_decay,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            eps=eps,
        )
        defaults = dict(
            lr=lr,
            lr_decay=lr_decay,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            eps=eps,
        )
        super().__init__(params, defaults, **options)

    def _init_state(self, param, group):
        return {"step": 0, "sum": np.full_like(param, group["initial_accumulator_value"])}

    def _advance(self, state, group):
        state["step"] += 1

    def _update(self, param, grad, state, group, tmp):
        t, std = tmp
        d = grad
        if group["weight_decay"] != 0:
            d = np.add(grad, np.multiply(param, group["weight_decay"], out=t), out=t)
        clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        state_sum = state["sum"]
        state_sum += np.multiply(d, d, out=std)
        np.sqrt(state_sum, out=std)
        std += group["eps"]
        param -= np.divide(np.multiply(d, clr, out=t), std, out=t)
