"""RMSprop: divide the gradient by a running root mean square of recent gradients."""

import numpy as np

from nnlab.optim.optimizer import Optimizer, check_hyperparameters


class RMSprop(Optimizer):
    """RMSprop (``torch.optim.RMSprop``; Hinton's lecture 6e, centered form from Graves 2013).

    Algorithm, per parameter ``p`` with gradient ``g`` (``v``, ``m``, ``b`` start at zero)::

        if weight_decay != 0:  g = g + weight_decay * p
        v = alpha * v + (1 - alpha) * g^2
        if centered:
            m = alpha * m + (1 - alpha) * g
            avg = sqrt(v - m^2) + eps
        else:
            avg = sqrt(v) + eps
        if momentum > 0:
            b = momentum * b + g / avg
            p = p - lr * b
        else:
            p = p - lr * g / avg

    Args:
        params: parameters or parameter groups (see ``Optimizer``).
        lr: learning rate.
        alpha: smoothing constant of the squared-gradient average.
        eps: added to the denominator for numerical stability.
        weight_decay: L2 penalty added to the gradient.
        momentum: momentum factor.
        centered: normalise by an estimate of the gradient's variance instead of its second
            moment.
        **options: ``clipvalue``, ``clipnorm``, ``global_clipnorm``, ``on_nonfinite``.

    State: ``step``, ``square_avg``, ``momentum_buffer`` (momentum > 0), ``grad_avg`` (centered).
    """

    _n_scratch = 2
    _chunkable = True
    _scalar_state = ("step",)

    def __init__(
        self,
        params=None,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        **options,
    ):
        check_hyperparameters(
            lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum
        )
        defaults = dict(
            lr=lr,
            alpha=alpha,
            eps=eps,
            weight_decay=weight_decay,
            momentum=momentum,
            centered=centered,
        )
        super().__init__(params, defaults, **options)

    def _init_state(self, param, group):
        state = {"step": 0, "square_avg": np.zeros_like(param)}
        if group["momentum"] > 0:
            state["momentum_buffer"] = np.zeros_like(param)
        if group["centered"]:
            state["grad_avg"] = np.zeros_like(param)
        return state

    def _advance(self, state, group):
        state["step"] += 1

    def _update(self, param, grad, state, group, tmp):
        t, avg = tmp
        alpha = group["alpha"]
        d = grad
        if group["weight_decay"] != 0:
            d = np.add(grad, np.multiply(param, group["weight_decay"], out=t), out=t)
        square_avg = state["square_avg"]
        square_avg *= alpha
        square_avg += np.multiply(np.multiply(d, 1 - alpha, out=avg), d, out=avg)
        if group["centered"]:
            grad_avg = state["grad_avg"]
            grad_avg += np.multiply(np.subtract(d, grad_avg, out=avg), 1 - alpha, out=avg)
            np.subtract(square_avg, np.multiply(grad_avg, grad_avg, out=avg), out=avg)
            np.sqrt(avg, out=avg)
        else:
            np.sqrt(square_avg, out=avg)
        avg += group["eps"]
        if group["momentum"] > 0:
            buf = state["momentum_buffer"]
            buf *= group["momentum"]
            buf += np.divide(d, avg, out=avg)
            param -= np.multiply(buf, group["lr"], out=avg)
        else:
            param -= np.divide(np.multiply(d, group["lr"], out=t), avg, out=t)
