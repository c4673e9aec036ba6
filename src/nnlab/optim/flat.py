"""Updating many small parameters with one set of NumPy calls.

An update rule costs about ten NumPy calls per parameter; for a small network that per-call
overhead, not arithmetic, is most of a step. ``FlatGroup`` packs the small parameters of a
group (and their gradients) into one flat array each step and keeps their optimizer state
flat for good, so the rule runs once over everything. Each parameter's state entries are
views into the flat state, so ``state_dict()`` and per-parameter reads see the same numbers.
"""

import numpy as np


class FlatGroup:
    """Flat state for a fixed list of parameters; ``matches`` tells whether it is still valid."""

    def __init__(self, params: list, states: dict, n_scratch: int):
        self.params = tuple(params)
        self.shapes = tuple(p.data.shape for p in params)
        sizes = [p.data.size for p in params]
        self.bounds = np.cumsum([0] + sizes)
        first = states[params[0]]
        self.array_keys = tuple(k for k, v in first.items() if isinstance(v, np.ndarray))
        self.scalar_keys = tuple(k for k in first if k not in self.array_keys)
        self.arrays = {
            k: np.concatenate([states[p][k].reshape(-1) for p in params]) for k in self.array_keys
        }
        for p, lo, hi in zip(params, self.bounds[:-1], self.bounds[1:], strict=True):
            for k in self.array_keys:
                states[p][k] = self.arrays[k][lo:hi].reshape(p.data.shape)
        self.views = {p: tuple(states[p][k] for k in self.array_keys) for p in params}
        dtype = params[0].data.dtype
        self.flat_param = np.empty(self.bounds[-1], dtype)
        self.flat_grad = np.empty(self.bounds[-1], dtype)
        self.scratch = [np.empty(self.bounds[-1], dtype) for _ in range(n_scratch)]

    def matches(self, params: list, states: dict) -> bool:
        """Same parameters and shapes, and every state entry still the view made here (a
        ``load_state_dict`` replaces them)."""
        if tuple(params) != self.params:
            return False
        for p, shape in zip(params, self.shapes, strict=True):
            state = states[p]
            if p.data.shape != shape or any(
                state[k] is not v for k, v in zip(self.array_keys, self.views[p], strict=True)
            ):
                return False
        return True

    def scalars(self, states: dict):
        """The scalar state shared by every parameter, or None when they differ."""
        first = states[self.params[0]]
        values = {k: first[k] for k in self.scalar_keys}
        if any(states[p][k] != v for p in self.params[1:] for k, v in values.items()):
            return None
        return values

    def run(self, update, grads: list, scalars: dict, group: dict) -> None:
        """Pack parameters and gradients, apply ``update`` once, unpack the parameters."""
        np.concatenate([p.data.reshape(-1) for p in self.params], out=self.flat_param)
        np.concatenate([g.reshape(-1) for g in grads], out=self.flat_grad, casting="same_kind")
        update(self.flat_param, self.flat_grad, {**scalars, **self.arrays}, group, self.scratch)
        for p, lo, hi in zip(self.params, self.bounds[:-1], self.bounds[1:], strict=True):
            np.copyto(p.data, self.flat_param[lo:hi].reshape(p.data.shape))
