"""Whole-sequence recurrent ops: one Function runs one direction of one RNN, LSTM or GRU layer.

Layouts, gate orders and equations are PyTorch's (``torch.nn.RNN/LSTM/GRU``, batch first)::

    x (N, T, I); h0, c0 (N, H); w_ih (G*H, I); w_hh (G*H, H); b_ih, b_hh (G*H,) or None
    RNN  (G=1):              h' = act(W_ih x + b_ih + W_hh h + b_hh), act = tanh or relu
    LSTM (G=4; i, f, g, o):  c' = f * c + i * g,   h' = o * tanh(c')
    GRU  (G=3; r, z, n):     n = tanh(W_in x + b_in + r * (W_hn h + b_hn)),
                             h' = (1 - z) * n + z * h
    GRU reset_after=False (Keras's original GRU): n = tanh(W_in x + b_in + W_hn (r * h) + b_hn)

Each op returns the output sequence (N, T, H) and the final state(s) (N, H).

How it is fast:

- Inside, a step's arrays are feature-major, (G*H, N) and (H, N), stacked over time as
  (T, ., N): every gate block of every step is then one contiguous array, so each ufunc call
  is a single inner loop (row-major (N, G*H) slices cost a loop per sample: ~1.5x slower).
  The output sequence is a transposed view of that stack.
- The input projections of all steps are one batched GEMM; the loop does one
  (G*H, H + 1) x (H + 1, N) GEMM and a handful of in-place ufuncs per step into
  preallocated arrays. (The LSTM instead folds each step's input into that GEMM; see
  ``nnlab.ops.lstm``.) Biases ride along as the weights of a ones row appended to x and to
  the states, so no step adds a broadcast bias (a (G*H, 1) broadcast costs a loop per row)
  and the weight-gradient GEMM returns the bias gradient as one more column.
- sigmoid(z) = (tanh(z / 2) + 1) / 2, and the sigmoid gates' weight rows are halved up front
  (exact: a power of two), so one tanh call activates all of a step's LSTM gates.
- Backward first turns the saved activations into every step's derivative factors with a few
  whole-array operations (masks folded in), so its loop only carries dh (and dc) back and
  writes each step's pre-activation gradient into one (T, G*H, N) array; then the gradients
  of x, of w_ih and b_ih, and of w_hh and b_hh are one GEMM each. When only a few outputs
  have a gradient (a loss on the last output), only those steps' gradients are gathered.

Keyword options of every op:

    reverse: process t = T-1, ..., 0 (the backward direction of a bidirectional layer); the
        output sequence stays aligned with the input's time axis.
    mask: bool (N, T), True at real steps; or ``lengths``: ints (N,), real steps first. At a
        masked step the state passes through unchanged (as PyTorch's packed sequences and
        Keras masking). The output there is 0 with ``zero_masked=True`` (PyTorch; Keras's
        Bidirectional); with ``zero_masked=False`` (a plain Keras layer) it is the latest
        output, i.e. the carried state, or 0 before the first real step.
    bptt_steps: truncated backpropagation through time: backward cuts the gradient through
        the recurrence every ``bptt_steps`` steps (counted in processing order), as if the
        state were detached between chunks of that many steps. The forward is unchanged.
"""

import numpy as np

from nnlab.autograd.function import Function

# Backward steps between subnormal flushes of the carried gradients. Flushing every step
# costs ~10% on short sequences; long ones are where gradients decay into the subnormal
# range and stay there, so from LONG_SEQUENCE steps on every step is flushed (measured on a
# SimpleRNN at T = 200: 1.63 s per training round unflushed, 1.21 s every 8 steps, 0.91 s
# every step).
FLUSH_EVERY, LONG_SEQUENCE = 8, 64


def flush_subnormals(*arrays) -> None:
    """Set the values below the smallest normal float to zero, in place.

    A gradient carried back through many time steps can shrink into the subnormal range,
    where every multiply costs far more (a SimpleRNN training step at T = 200 slowed from 24
    to 75 ms as its gradients decayed); values that small cannot change a weight.
    """
    for array in arrays:
        np.copyto(array, 0, where=np.abs(array) < np.finfo(array.dtype).tiny)


def gate_rows(hidden: int, blocks) -> np.ndarray:
    """Row indices taking gate blocks of ``hidden`` rows in the order ``blocks``."""
    return np.concatenate([np.arange(b * hidden, (b + 1) * hidden) for b in blocks])


def unpermute(grad, rows):
    """Put rows gathered with ``rows`` back in their original order."""
    if rows is None or grad is None:
        return grad
    out = np.empty_like(grad)
    out[rows] = grad
    return out


def by_feature(stack):
    """(T, K, N) -> (K, T*N), contiguous: the layout one GEMM can contract over (t, n)."""
    steps, k, n = stack.shape
    return np.ascontiguousarray(stack.transpose(1, 0, 2)).reshape(k, steps * n)


def _time_mask(mask, lengths, n: int, steps: int):
    """The (T, 1, N) bool mask of real steps, or None when every step is real."""
    if mask is not None and lengths is not None:
        raise ValueError("pass either mask or lengths, not both")
    if lengths is not None:
        lengths = np.asarray(lengths)
        if (
            lengths.shape != (n,)
            or not np.all(np.mod(lengths, 1) == 0)
            or lengths.min() < 0
            or lengths.max() > steps
        ):
            raise ValueError(
                f"lengths must hold {n} integers in [0, {steps}] (one per sequence), got "
                f"{lengths.tolist()}"
            )
        mask = np.arange(steps) < lengths[:, None]
    if mask is None:
        return None
    mask = np.asarray(mask)
    if mask.shape != (n, steps):
        raise ValueError(f"mask must have shape (N, T) = {(n, steps)}, got {mask.shape}")
    mask = mask.astype(bool)
    return None if mask.all() else np.ascontiguousarray(mask.T)[:, None, :]


def _seen(mask, reverse: bool):
    """True from each sequence's first real step on (in processing order)."""
    if reverse:
        return np.logical_or.accumulate(mask[::-1], axis=0)[::-1]
    return np.logical_or.accumulate(mask, axis=0)


def augmented(w, b, n_sigmoid: int, dtype):
    """[w | b] (b = 0 when None), sigmoid rows halved: bias as the weight of a ones row, so
    each GEMM adds it and the gradient GEMM returns its gradient as one more column."""
    out = np.empty((w.shape[0], w.shape[1] + 1), dtype)
    out[:, :-1] = w
    out[:, -1] = 0 if b is None else b
    out[:n_sigmoid] *= 0.5
    return out


class RecurrentSequence(Function):
    """Set-up, output assembly and gradient assembly shared by the three ops.

    Inputs and states carry a ones row (bias): x as (T, I + 1, N), states in one
    (T + 1, H + 1, N) array. Step t reads slot ``t + r`` and writes slot ``t + 1 - r``
    (r = 1 when reversed), so the states before and after every step are two contiguous
    slices whatever the direction. With ``inputs_in_states`` (the LSTM) there is no separate
    x: each slot holds [h; x; 1], (T + 1, H + I + 1, N), x being the input of the step that
    reads the slot.
    """

    n_gates = 1
    n_states = 1  # state inputs after x: h0 (and c0)
    inputs_in_states = False

    def _setup(self, x, h0, w_ih, w_hh, reverse, mask, lengths, zero_masked, bptt_steps):
        name = type(self).__name__
        if x.ndim != 3:
            raise ValueError(
                f"{name} expects batch-first input (N, T, features), got shape {x.shape}; "
                "convert (T, N, features) data with x.transpose(1, 0, 2)"
            )
        n, steps, features = x.shape
        hidden = w_hh.shape[1]
        gh = self.n_gates * hidden
        if w_hh.shape != (gh, hidden) or w_ih.shape != (gh, features):
            raise ValueError(
                f"{name} with hidden size {hidden} and {features} input features needs w_ih "
                f"{(gh, features)} and w_hh {(gh, hidden)}, got {w_ih.shape} and {w_hh.shape}"
            )
        if steps == 0:
            raise ValueError(f"{name} got an empty sequence (T = 0)")
        if bptt_steps is not None and int(bptt_steps) < 1:
            raise ValueError(f"bptt_steps must be a positive integer, got {bptt_steps}")
        self.dtype = dtype = w_ih.dtype
        self.n, self.steps, self.hidden, self.r = n, steps, hidden, int(bool(reverse))
        self.times = range(steps - 1, -1, -1) if reverse else range(steps)
        self.w_ih, self.w_hh = w_ih, w_hh
        self.mask = _time_mask(mask, lengths, n, steps)
        self.skip = None if self.mask is None else ~self.mask
        self.zero_masked = bool(zero_masked)
        k = int(bptt_steps or 0)
        self.cut = frozenset(t for s, t in enumerate(self.times) if k and s and s % k == 0)
        if self.inputs_in_states:
            hs = self._initial_states(h0, ones_row=True, input_rows=features)
            hs[self.r : steps + self.r, hidden:-1] = x.transpose(1, 2, 0)
            hs[steps * (1 - self.r), hidden:-1] = 0  # the last slot is never read as an input
        else:
            self.xt = np.empty((steps, features + 1, n), dtype)  # x by step, plus a ones row
            self.xt[:, :features] = x.transpose(1, 2, 0)
            self.xt[:, features] = 1
            hs = self._initial_states(h0, ones_row=True)
        return hs, hs[:, :hidden]

    def _initial_states(self, s0, ones_row=False, input_rows=0):
        """A (T + 1, H (+ input_rows) (+ 1), N) state array holding ``s0`` (N, H) (zeros if
        None) in the first slot processed; the ones row, if any, last."""
        n, hidden = self.n, self.hidden
        if s0 is not None and s0.shape != (n, hidden):
            raise ValueError(
                f"{type(self).__name__}: initial states must have shape (N, H) = "
                f"{(n, hidden)}, got {s0.shape}"
            )
        states = np.empty((self.steps + 1, hidden + input_rows + ones_row, n), self.dtype)
        states[self.steps * self.r, :hidden] = 0 if s0 is None else s0.T
        if ones_row:
            states[:, -1] = 1
        return states

    def _final(self, states):
        return states[self.steps * (1 - self.r), : self.hidden].T

    def _prev_states(self, states):
        return states[self.r : self.steps + self.r]

    def _outputs(self, hs):
        """(output sequence (N, T, H), final state (N, H)), views of the state array."""
        seq = hs[1 - self.r : self.steps + 1 - self.r, : self.hidden]
        self.out_factor = None
        if self.mask is not None:
            factor = self.mask if self.zero_masked else _seen(self.mask, self.r)
            if not factor.all():
                self.out_factor = factor
                seq = seq * factor
        return seq.transpose(2, 0, 1), self._final(hs)

    def _output_grad(self, dy):
        """d(loss)/d(output sequence), indexed by step as (H, N) arrays, zero where the output
        was forced to 0; None when it is zero everywhere (only the final state was used).
        When few steps have a gradient (a loss on the last output), the others are None."""
        steps_used = np.flatnonzero(dy.any(axis=(0, 2)))
        if steps_used.size == 0:
            return None
        factor = self.out_factor
        if 4 * steps_used.size <= self.steps:
            by_step = [None] * self.steps
            for t in steps_used:
                g = np.ascontiguousarray(dy[:, t].T, dtype=self.dtype)
                by_step[t] = g if factor is None else g * factor[t]
            return by_step
        dy = np.ascontiguousarray(dy.transpose(1, 2, 0), dtype=self.dtype)
        return dy if factor is None else dy * factor

    def _carry(self, g):
        """A writable (H, N) copy of an incoming (N, H) state gradient."""
        return np.array(g.T, dtype=self.dtype, copy=True, order="C")

    def _end_step(self, t: int, *carried) -> None:
        """After the backward step at time ``t``: zero the carried state gradients at a
        truncation point, else flush their subnormal values every few steps."""
        if t in self.cut:
            for array in carried:
                array.fill(0)
        elif len(self.times) >= LONG_SEQUENCE or t % FLUSH_EVERY == 0:
            flush_subnormals(*carried)

    def _weight_grads(self, d_flat, stack, index, rows=None):
        """(weight, bias) gradients of the inputs at ``index`` and ``index + 2`` from the
        pre-activation gradients by feature (G*H, T*N) and what they multiplied, (T, K + 1, N)
        with its ones row."""
        if not (self._need(index) or self._need(index + 2)):
            return None, None
        grad = unpermute(np.dot(d_flat, by_feature(stack).T), rows)
        return np.ascontiguousarray(grad[:, :-1]), grad[:, -1].copy()

    def _input_grads(self, d_flat, w_ih_rows, rows=None):
        """Gradients of x, w_ih and b_ih from the input-side pre-activation gradients by
        feature, ``d_flat`` (G*H, T*N)."""
        grad_x = self._x_grad(d_flat, w_ih_rows)
        return (grad_x, *self._weight_grads(d_flat, self.xt, self.n_states + 1, rows))

    def _x_grad(self, d_flat, w_ih_rows):
        """x's gradient (N, T, I), or None when not needed: one GEMM over every step."""
        if not self._need(0):
            return None
        features = w_ih_rows.shape[1]
        return (w_ih_rows.T @ d_flat).reshape(features, self.steps, self.n).transpose(2, 1, 0)

    def _need(self, i: int) -> bool:
        return i < len(self.needs_input_grad) and self.needs_input_grad[i]

    def _finish(self, grads):
        """The gradient tuple, one entry per input the op was called with."""
        grads = [g if self._need(i) else None for i, g in enumerate(grads)]
        return tuple(grads[: len(self.needs_input_grad)])


class RNNSequence(RecurrentSequence):
    """Elman RNN over a whole sequence: h' = act(W_ih x + b_ih + W_hh h + b_hh).

    Inputs: x (N, T, I), h0 (N, H) or None (zeros), w_ih (H, I), w_hh (H, H), b_ih, b_hh (H,)
    or None. Keywords: ``nonlinearity`` ('tanh' or 'relu'; relu'(0) = 0 as PyTorch) and the
    options of the module docstring. Outputs: (output (N, T, H), h_n (N, H)).
    """

    def forward(
        self, x, h0, w_ih, w_hh, b_ih=None, b_hh=None, *, nonlinearity="tanh", reverse=False,
        mask=None, lengths=None, zero_masked=True, bptt_steps=None,
    ):  # fmt: skip
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        hs, hv = self._setup(x, h0, w_ih, w_hh, reverse, mask, lengths, zero_masked, bptt_steps)
        self.relu = nonlinearity == "relu"
        pre = np.matmul(augmented(w_ih, b_ih, 0, self.dtype), self.xt)
        w_rec = augmented(w_hh, b_hh, 0, self.dtype)
        r, skip = self.r, self.skip
        for t in self.times:
            h, prev = hv[t + 1 - r], t + r
            np.dot(w_rec, hs[prev], out=h)
            h += pre[t]
            if self.relu:
                np.maximum(h, 0, out=h)
            else:
                np.tanh(h, out=h)
            if skip is not None:
                np.copyto(h, hv[prev], where=skip[t])
        self.hs = hs
        return self._outputs(hs)

    def backward(self, grads):
        dy, dh_n = grads
        out = self.hs[1 - self.r : self.steps + 1 - self.r, : self.hidden]
        if self.relu:
            deriv = (out > 0).astype(self.dtype)
        else:
            deriv = np.multiply(out, out)
            np.subtract(1.0, deriv, out=deriv)
        if self.mask is not None:
            deriv *= self.mask
        dy = self._output_grad(dy)
        d_pre = np.empty_like(deriv)
        dh, dh_next = self._carry(dh_n), np.empty_like(deriv[0])
        w_hh_t, skip = np.ascontiguousarray(self.w_hh.T), self.skip
        for t in reversed(self.times):
            if dy is not None and dy[t] is not None:
                dh += dy[t]
            np.multiply(dh, deriv[t], out=d_pre[t])
            np.dot(w_hh_t, d_pre[t], out=dh_next)
            if skip is not None:
                np.copyto(dh_next, dh, where=skip[t])
            dh, dh_next = dh_next, dh
            self._end_step(t, dh)
        d_flat = by_feature(d_pre)
        grad_x, grad_w_ih, grad_b_ih = self._input_grads(d_flat, self.w_ih)
        grad_w_hh, grad_b_hh = self._weight_grads(d_flat, self._prev_states(self.hs), 3)
        return self._finish((grad_x, dh.T, grad_w_ih, grad_w_hh, grad_b_ih, grad_b_hh))
