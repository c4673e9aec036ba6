"""LSTMSequence: one direction of one LSTM layer as a fused whole-sequence op (see
``nnlab.ops.recurrent`` for layouts, options and how it is fast).

Unlike the RNN and GRU ops, each LSTM step multiplies [W_hh | W_ih | b] by the stacked
column [h; x_t; 1]: the input projection rides in the step's GEMM instead of a separate
whole-sequence GEMM plus an add per step, and backward gets the gradients of both weights
and the bias from one GEMM. Measured on the seed forecaster (3 layers of 50 units, 60 steps,
batch 32), a training step (forward and backward) took 12.9-13.3 ms before, 12.3-12.4 after.
"""

import numpy as np

from nnlab.ops.recurrent import RecurrentSequence, augmented, by_feature, gate_rows, unpermute


class LSTMSequence(RecurrentSequence):
    """LSTM over a whole sequence (PyTorch gate order i, f, g, o).

    Inputs: x (N, T, I), h0, c0 (N, H) or None (zeros), w_ih (4H, I), w_hh (4H, H), b_ih,
    b_hh (4H,) or None; keywords as in the module docstring.
    Outputs: (output (N, T, H), h_n (N, H), c_n (N, H)).
    """

    n_gates, n_states = 4, 2
    inputs_in_states = True  # each step's GEMM takes [h; x_t; 1] (module docstring)
    _ORDER = (0, 1, 3, 2)  # internal gate order i, f, o, g: the three sigmoid gates adjacent

    def forward(
        self, x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None, *, reverse=False, mask=None,
        lengths=None, zero_masked=True, bptt_steps=None,
    ):  # fmt: skip
        zs, hv = self._setup(x, h0, w_ih, w_hh, reverse, mask, lengths, zero_masked, bptt_steps)
        cs = self._initial_states(c0)
        H, r, skip, dtype = self.hidden, self.r, self.skip, self.dtype
        self.rows = rows = gate_rows(H, self._ORDER)
        self.w_ih_rows, self.w_hh_rows = w_ih[rows], w_hh[rows]
        bias = _sum(b_ih, b_hh)
        weights = np.concatenate([self.w_hh_rows, self.w_ih_rows], 1)
        w_step = augmented(weights, None if bias is None else bias[rows], 3 * H, dtype)
        gates = np.empty((self.steps, 4 * H, self.n), dtype)
        tanh_c = np.empty_like(cs[1:])
        ig = np.empty_like(tanh_c[0])
        for t in self.times:
            new, prev = t + 1 - r, t + r
            g, c = gates[t], cs[new]
            np.dot(w_step, zs[prev], out=g)
            np.tanh(g, out=g)
            sig = g[: 3 * H]
            sig *= 0.5
            sig += 0.5
            np.multiply(g[H : 2 * H], cs[prev], out=c)
            np.multiply(g[:H], g[3 * H :], out=ig)
            c += ig
            np.tanh(c, out=tanh_c[t])
            np.multiply(g[2 * H : 3 * H], tanh_c[t], out=hv[new])
            if skip is not None:
                np.copyto(hv[new], hv[prev], where=skip[t])
                np.copyto(c, cs[prev], where=skip[t])
        self.gates, self.tanh_c, self.hs, self.cs = gates, tanh_c, zs, cs
        return (*self._outputs(zs), self._final(cs))

    def _factors(self):
        """Every step's derivative factors at once: (gate derivatives, dh -> do, dh -> dc,
        dc -> dc_prev); zero (identity for dc_prev) at masked steps."""
        H, gates, tanh_c = self.hidden, self.gates, self.tanh_c
        deriv = np.empty_like(gates)
        sig, cand = gates[:, : 3 * H], gates[:, 3 * H :]
        np.subtract(1.0, sig, out=deriv[:, : 3 * H])
        deriv[:, : 3 * H] *= sig
        np.multiply(cand, cand, out=deriv[:, 3 * H :])
        np.subtract(1.0, deriv[:, 3 * H :], out=deriv[:, 3 * H :])
        dc_from_h = np.multiply(tanh_c, tanh_c)  # o * (1 - tanh(c)^2)
        np.subtract(1.0, dc_from_h, out=dc_from_h)
        dc_from_h *= gates[:, 2 * H : 3 * H]
        do_from_h, forget = tanh_c, gates[:, H : 2 * H]
        if self.mask is not None:
            deriv *= self.mask
            dc_from_h *= self.mask
            do_from_h = tanh_c * self.mask
            forget = np.ascontiguousarray(np.where(self.mask, forget, 1.0))
        return deriv, do_from_h, dc_from_h, forget

    def backward(self, grads):
        dy, dh_n, dc_n = grads
        H, gates, skip = self.hidden, self.gates, self.skip
        deriv, do_from_h, dc_from_h, forget = self._factors()
        c_prev = self._prev_states(self.cs)
        dy = self._output_grad(dy)
        d_gates = np.empty_like(gates)
        dh, dc = self._carry(dh_n), self._carry(dc_n)
        dh_next, tmp = np.empty_like(dh), np.empty_like(dh)
        w_hh_t = np.ascontiguousarray(self.w_hh_rows.T)
        for t in reversed(self.times):
            if dy is not None and dy[t] is not None:
                dh += dy[t]
            d, g = d_gates[t], gates[t]
            np.multiply(dh, do_from_h[t], out=d[2 * H : 3 * H])
            np.multiply(dh, dc_from_h[t], out=tmp)
            dc += tmp
            np.multiply(dc, g[3 * H :], out=d[:H])
            np.multiply(dc, c_prev[t], out=d[H : 2 * H])
            np.multiply(dc, g[:H], out=d[3 * H :])
            dc *= forget[t]
            d *= deriv[t]
            np.dot(w_hh_t, d, out=dh_next)
            if skip is not None:
                np.copyto(dh_next, dh, where=skip[t])
            dh, dh_next = dh_next, dh
            self._end_step(t, dh, dc)
        d_flat = by_feature(d_gates)
        grad_x = self._x_grad(d_flat, self.w_ih_rows)
        weight_grads = (None,) * 4  # w_ih, w_hh, b_ih, b_hh
        if any(self._need(i) for i in (3, 4, 5, 6)):
            stacked = by_feature(self._prev_states(self.hs))  # [h; x; 1] by feature
            grad = unpermute(np.dot(d_flat, stacked.T), self.rows)
            bias = grad[:, -1]
            weight_grads = (
                np.ascontiguousarray(grad[:, H:-1]),
                np.ascontiguousarray(grad[:, :H]),
                bias.copy(),
                bias.copy(),  # each bias its own array: optimizers may change it in place
            )
        return self._finish((grad_x, dh.T, dc.T, *weight_grads))


def _sum(a, b):
    """a + b where either may be None (zero)."""
    if a is None or b is None:
        return b if a is None else a
    return a + b
