"""Gradient mode (``no_grad``) and the reverse-mode walk over the graph of Functions.

The walk is iterative, so a chain of any length works without touching the recursion limit.
After the walk each Function is released (its saved arrays freed) unless ``retain_graph``.
"""

import contextlib
import threading

import numpy as np

_state = threading.local()


def is_grad_enabled() -> bool:
    """True unless inside ``no_grad()``."""
    return getattr(_state, "enabled", True)


@contextlib.contextmanager
def set_grad_enabled(enabled: bool):
    """Turn graph recording on or off inside the block."""
    previous = is_grad_enabled()
    _state.enabled = bool(enabled)
    try:
        yield
    finally:
        _state.enabled = previous


def no_grad():
    """Context manager: ops inside record no graph and save nothing for backward."""
    return set_grad_enabled(False)


def _topological_order(root_fn) -> list:
    """Functions reachable from ``root_fn``, every one after all the functions feeding it."""
    order, visited, stack = [], set(), [(root_fn, False)]
    while stack:
        fn, expanded = stack.pop()
        if expanded:
            order.append(fn)
            continue
        if fn in visited:
            continue
        if fn.parents is None:
            raise RuntimeError(
                f"backward through {fn!r} a second time: its saved values were freed by the "
                "first backward. Call backward(retain_graph=True) the first time if you need two."
            )
        visited.add(fn)
        stack.append((fn, True))
        for parent in fn.parents:
            if parent is not None and parent._ctx is not None and parent._ctx not in visited:
                stack.append((parent._ctx, False))
    return order


def _output_grad(fn, slots):
    """The gradient to hand ``fn.backward``: one array, or a tuple for multi-output functions."""
    if fn.n_outputs == 1:
        return slots[0]
    if not fn.zero_fill_grads:
        return tuple(slots)
    return tuple(
        np.zeros(shape, dtype) if g is None else g
        for g, (shape, dtype) in zip(slots, fn.output_meta, strict=True)
    )


def run_backward(root, grad: np.ndarray, retain_graph: bool = False) -> None:
    """Propagate ``grad`` (d output / d root) back to every leaf that requires grad."""
    pending = {root._ctx: [None] * root._ctx.n_outputs}
    pending[root._ctx][root._out_index] = grad
    for fn in reversed(_topological_order(root._ctx)):
        slots = pending.pop(fn, None)
        if slots is None or all(g is None for g in slots):
            continue
        input_grads = fn.backward(_output_grad(fn, slots))
        if not isinstance(input_grads, tuple):
            input_grads = (input_grads,)
        for parent, g in zip(fn.parents, input_grads, strict=True):
            if parent is None or g is None or not parent.requires_grad:
                continue
            if parent._ctx is None:
                _accumulate_leaf(parent, g)
            else:
                parent_slots = pending.setdefault(parent._ctx, [None] * parent._ctx.n_outputs)
                i = parent._out_index
                # Never add in place: backward may hand the same array to several inputs.
                parent_slots[i] = g if parent_slots[i] is None else parent_slots[i] + g
        if not retain_graph:
            fn.release()


def _accumulate_leaf(leaf, g: np.ndarray) -> None:
    if g.dtype != leaf.data.dtype:
        g = g.astype(leaf.data.dtype)
    if g.shape != leaf.data.shape:
        g = np.broadcast_to(g, leaf.data.shape).copy()
    leaf.grad = g if leaf.grad is None else leaf.grad + g
