"""Stochastic gradient descent with optional momentum, dampening, Nesterov and weight decay."""

import numpy as np

from nnlab.optim.optimizer import Optimizer, check_hyperparameters


class SGD(Optimizer):
    """Stochastic gradient descent (``torch.optim.SGD``).

    Algorithm, per parameter ``p`` with gradient ``g``::

        if weight_decay != 0:  g = g + weight_decay * p
        if momentum != 0:
            b = g                                    on the first step
            b = momentum * b + (1 - dampening) * g   afterwards
            g = g + momentum * b   if nesterov   else   b
        p = p - lr * g

    Args:
        params: parameters or parameter groups (see ``Optimizer``).
        lr: learning rate.
        momentum: momentum factor.
        dampening: dampening of the momentum.
        weight_decay: L2 penalty added to the gradient.
        nesterov: use Nesterov momentum (needs momentum > 0 and dampening 0).
        **options: ``clipvalue``, ``clipnorm``, ``global_clipnorm``, ``on_nonfinite``.

    State: ``momentum_buffer`` (when momentum != 0).
    """

    def __init__(
        self,
        params=None,
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        **options,
    ):
        check_hyperparameters(lr=lr, momentum=momentum, weight_decay=weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(
                f"Nesterov momentum needs momentum > 0 and dampening 0, got momentum={momentum}, "
                f"dampening={dampening}"
            )
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
        )
        super().__init__(params, defaults, **options)

    def _update(self, param, grad, state, group, tmp):
        (t,) = tmp
        d = grad
        if group["weight_decay"] != 0:
            d = np.add(grad, np.multiply(param, group["weight_decay"], out=t), out=t)
        momentum = group["momentum"]
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = d.astype(param.dtype)  # a copy, param's dtype
            else:
                buf *= momentum
                if group["dampening"] != 0:
                    buf += np.multiply(d, 1 - group["dampening"], out=t)
                else:
                    buf += d
            d = np.add(d, momentum * buf, out=t) if group["nesterov"] else buf
        param -= np.multiply(d, group["lr"], out=t)
