"""GRUSequence: one direction of one GRU layer as a fused whole-sequence op (see
``nnlab.ops.recurrent`` for layouts, options and how it is fast)."""

import numpy as np

from nnlab.ops.recurrent import RecurrentSequence, augmented, by_feature


class GRUSequence(RecurrentSequence):
    """GRU over a whole sequence (PyTorch gate order r, z, n).

    Inputs: x (N, T, I), h0 (N, H) or None (zeros), w_ih (3H, I), w_hh (3H, H), b_ih, b_hh
    (3H,) or None. Keywords: ``reset_after`` (True: PyTorch's and Keras's default, the reset
    gate multiplies W_hn h + b_hn; False: Keras's original GRU, it multiplies h before W_hn)
    and the options of the module docstring. Outputs: (output (N, T, H), h_n (N, H)).
    """

    n_gates = 3

    def forward(
        self, x, h0, w_ih, w_hh, b_ih=None, b_hh=None, *, reset_after=True, reverse=False,
        mask=None, lengths=None, zero_masked=True, bptt_steps=None,
    ):  # fmt: skip
        hs, hv = self._setup(x, h0, w_ih, w_hh, reverse, mask, lengths, zero_masked, bptt_steps)
        H, dtype = self.hidden, self.dtype
        self.reset_after = bool(reset_after)
        gates = np.matmul(augmented(w_ih, b_ih, 2 * H, dtype), self.xt)  # r, z halved
        w_rec = augmented(w_hh, b_hh, 2 * H, dtype)
        self.diff = np.empty_like(gates[:, :H])  # h_prev - n
        if self.reset_after:
            self._loop_reset_after(hs, hv, gates, w_rec)
        else:
            self._loop_reset_before(hs, hv, gates, w_rec[: 2 * H], w_rec[2 * H :])
        self.gates, self.hs = gates, hs
        return self._outputs(hs)

    def _loop_reset_after(self, hs, hv, gates, w_rec):
        H, r, skip, diff = self.hidden, self.r, self.skip, self.diff
        self.rec = rec = np.empty_like(gates)  # W_hh h + b_hh, per step
        tmp = np.empty_like(diff[0])
        for t in self.times:
            new, prev = t + 1 - r, t + r
            g, s = gates[t], rec[t]
            np.dot(w_rec, hs[prev], out=s)
            rz, n = g[: 2 * H], g[2 * H :]
            rz += s[: 2 * H]
            np.tanh(rz, out=rz)
            rz *= 0.5
            rz += 0.5
            np.multiply(g[:H], s[2 * H :], out=tmp)
            n += tmp
            np.tanh(n, out=n)
            np.subtract(hv[prev], n, out=diff[t])
            np.multiply(g[H : 2 * H], diff[t], out=tmp)
            np.add(n, tmp, out=hv[new])
            if skip is not None:
                np.copyto(hv[new], hv[prev], where=skip[t])

    def _loop_reset_before(self, hs, hv, gates, w_rz, w_n):
        H, r, skip, diff = self.hidden, self.r, self.skip, self.diff
        self.rh = rh = np.empty_like(hs[1:])  # r * h_prev, plus a ones row, per step
        rh[:, H] = 1
        s, tmp = np.empty_like(gates[0, : 2 * H]), np.empty_like(diff[0])
        for t in self.times:
            new, prev = t + 1 - r, t + r
            g = gates[t]
            np.dot(w_rz, hs[prev], out=s)
            rz, n = g[: 2 * H], g[2 * H :]
            rz += s
            np.tanh(rz, out=rz)
            rz *= 0.5
            rz += 0.5
            np.multiply(g[:H], hv[prev], out=rh[t, :H])
            np.dot(w_n, rh[t], out=tmp)
            n += tmp
            np.tanh(n, out=n)
            np.subtract(hv[prev], n, out=diff[t])
            np.multiply(g[H : 2 * H], diff[t], out=tmp)
            np.add(n, tmp, out=hv[new])
            if skip is not None:
                np.copyto(hv[new], hv[prev], where=skip[t])

    def _factors(self):
        """Every step's factors at once: dh -> dn_pre, dh -> dz_pre, r(1 - r) times what r
        multiplied, and dh -> dh_prev through z. Masked steps: zero, and identity for the
        carried state."""
        H, gates = self.hidden, self.gates
        r, z, n = gates[:, :H], gates[:, H : 2 * H], gates[:, 2 * H :]
        one_minus_z = np.subtract(1.0, z)
        from_n = np.multiply(n, n)  # (1 - z)(1 - n^2)
        np.subtract(1.0, from_n, out=from_n)
        from_n *= one_minus_z
        from_z = np.multiply(one_minus_z, z)  # z(1 - z)(h_prev - n)
        from_z *= self.diff
        from_r = np.subtract(1.0, r)
        from_r *= r
        if self.reset_after:
            from_r *= self.rec[:, 2 * H :]
        else:
            from_r *= self._prev_states(self.hs)[:, :H]
        carry = z
        if self.mask is not None:
            from_n *= self.mask
            from_z *= self.mask
            carry = np.ascontiguousarray(np.where(self.mask, z, 1.0))
        return from_n, from_z, from_r, carry

    def backward(self, grads):
        dy, dh_n = grads
        H, gates = self.hidden, self.gates
        from_n, from_z, from_r, carry = self._factors()
        dy = self._output_grad(dy)
        d_in = np.empty_like(gates)  # input-side pre-activation grads (r, z, n)
        # recurrent side: r, z and, with reset_after, the grad of W_hn h + b_hn
        d_rec = np.empty_like(gates if self.reset_after else gates[:, : 2 * H])
        dh = self._carry(dh_n)
        dh_next, d_rh, tmp = np.empty_like(dh), np.empty_like(dh), np.empty_like(dh)
        w_hh_t = np.ascontiguousarray(self.w_hh.T)
        w_rz_t, w_n_t = np.ascontiguousarray(w_hh_t[:, : 2 * H]), w_hh_t[:, 2 * H :].copy()
        for t in reversed(self.times):
            if dy is not None and dy[t] is not None:
                dh += dy[t]
            dn, e = d_in[t, 2 * H :], d_rec[t]
            np.multiply(dh, from_n[t], out=dn)
            np.multiply(dh, from_z[t], out=e[H : 2 * H])
            if self.reset_after:
                np.multiply(dn, from_r[t], out=e[:H])
                np.multiply(dn, gates[t, :H], out=e[2 * H :])
                np.dot(w_hh_t, e, out=dh_next)
            else:
                np.dot(w_n_t, dn, out=d_rh)
                np.multiply(d_rh, from_r[t], out=e[:H])
                np.dot(w_rz_t, e, out=dh_next)
                d_rh *= gates[t, :H]
                dh_next += d_rh
            np.multiply(dh, carry[t], out=tmp)
            dh_next += tmp
            dh, dh_next = dh_next, dh
            self._end_step(t, dh)
        d_in[:, : 2 * H] = d_rec[:, : 2 * H]
        d_flat, prev = by_feature(d_in), self._prev_states(self.hs)
        grad_x, grad_w_ih, grad_b_ih = self._input_grads(d_flat, self.w_ih)
        if self.reset_after:
            grad_w_hh, grad_b_hh = self._weight_grads(by_feature(d_rec), prev, 3)
        else:
            grad_w_hh, grad_b_hh = self._reset_before_grads(d_flat, prev)
        return self._finish((grad_x, dh.T, grad_w_ih, grad_w_hh, grad_b_ih, grad_b_hh))

    def _reset_before_grads(self, d_flat, prev):
        """w_hh and b_hh gradients when W_hn multiplies r * h: its rows pair with r * h."""
        if not (self._need(3) or self._need(5)):
            return None, None
        H = self.hidden
        grad = np.empty((3 * H, H + 1), self.dtype)
        np.dot(d_flat[: 2 * H], by_feature(prev).T, out=grad[: 2 * H])
        np.dot(d_flat[2 * H :], by_feature(self.rh).T, out=grad[2 * H :])
        return np.ascontiguousarray(grad[:, :-1]), grad[:, -1].copy()
