"""NAdam: Adam with Nesterov momentum and Dozat's momentum-decay schedule."""

import numpy as np

from nnlab.optim.adam import _betas
from nnlab.optim.optimizer import Optimizer, check_hyperparameters


class NAdam(Optimizer):
    """NAdam (``torch.optim.NAdam``; Dozat 2016, "Incorporating Nesterov Momentum into Adam").

    Algorithm, per parameter ``p`` with gradient ``g`` (``m``, ``v`` start at 0, ``mu_prod``
    at 1, ``psi = momentum_decay``)::

        t = t + 1
        if weight_decay != 0:
            p = p * (1 - lr * weight_decay)    if decoupled_weight_decay
            g = g + weight_decay * p           otherwise
        mu_t    = beta1 * (1 - 0.5 * 0.96^(t * psi))
        mu_next = beta1 * (1 - 0.5 * 0.96^((t + 1) * psi))
        mu_prod = mu_prod * mu_t
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g^2
        denom = sqrt(v / (1 - beta2^t)) + eps
        p = p - lr * (1 - mu_t) / (1 - mu_prod) * g / denom
              - lr * mu_next / (1 - mu_prod * mu_next) * m / denom

    Args:
        params: parameters or parameter groups (see ``Optimizer``).
        lr: learning rate.
        betas: decay rates of the first and second moment averages.
        eps: added to the denominator for numerical stability.
        weight_decay: L2 penalty (added to the gradient, or decoupled).
        momentum_decay: ``psi`` above.
        decoupled_weight_decay: shrink the weights directly, as AdamW does.
        **options: ``clipvalue``, ``clipnorm``, ``global_clipnorm``, ``on_nonfinite``.

    State: ``step``, ``mu_product``, ``exp_avg``, ``exp_avg_sq``. ``mu_product`` is kept as a
    float64 number (PyTorch keeps a float32 tensor unless the default dtype is float64).
    """

    _n_scratch = 2
    _chunkable = True
    _scalar_state = ("step", "mu_product")

    def __init__(
        self,
        params=None,
        lr: float = 2e-3,
        betas=(0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum_decay: float = 4e-3,
        decoupled_weight_decay: bool = False,
        **options,
    ):
        betas = _betas(betas)
        check_hyperparameters(
            lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, momentum_decay=momentum_decay
        )
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            momentum_decay=momentum_decay,
            decoupled_weight_decay=decoupled_weight_decay,
        )
        super().__init__(params, defaults, **options)

    def _init_state(self, param, group):
        return {
            "step": 0,
            "mu_product": 1.0,
            "exp_avg": np.zeros_like(param),
            "exp_avg_sq": np.zeros_like(param),
        }

    def _advance(self, state, group):
        state["step"] += 1
        beta1, psi = group["betas"][0], group["momentum_decay"]
        state["mu_product"] *= _momentum(beta1, psi, state["step"])

    def _update(self, param, grad, state, group, tmp):
        t, denom = tmp
        lr, (beta1, beta2), wd = group["lr"], group["betas"], group["weight_decay"]
        step = state["step"]
        d = grad
        if wd != 0:
            if group["decoupled_weight_decay"]:
                param *= 1 - lr * wd
            else:
                d = np.add(grad, np.multiply(param, wd, out=t), out=t)
        psi = group["momentum_decay"]
        mu, mu_next = _momentum(beta1, psi, step), _momentum(beta1, psi, step + 1)
        mu_product = state["mu_product"]
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        exp_avg += np.multiply(np.subtract(d, exp_avg, out=denom), 1 - beta1, out=denom)
        exp_avg_sq *= beta2
        exp_avg_sq += np.multiply(np.multiply(d, 1 - beta2, out=denom), d, out=denom)
        np.sqrt(np.divide(exp_avg_sq, 1 - beta2**step, out=denom), out=denom)
        denom += group["eps"]
        grad_coef = lr * (1.0 - mu) / (1.0 - mu_product)
        avg_coef = lr * mu_next / (1.0 - mu_product * mu_next)
        param -= np.divide(np.multiply(d, grad_coef, out=t), denom, out=t)
        param -= np.divide(np.multiply(exp_avg, avg_coef, out=t), denom, out=t)


def _momentum(beta1: float, psi: float, step: int) -> float:
    """NAdam's momentum schedule mu_t = beta1 (1 - 0.5 * 0.96^(t psi))."""
    return beta1 * (1.0 - 0.5 * 0.96 ** (step * psi))


Nadam = NAdam  # the Keras spelling
