"""The pieces of backpropagation through time (grads/recurrent.py) that every recurrent layer
shares: activation derivatives from the output, the recurrent matmul and its gradients, and a
backward pass's per-step buffers."""

from __future__ import annotations

import numpy as np

from .activations import act_grad


def sigmoid_back(y, g, out, tmp):
    np.subtract(1, y, out=tmp)
    np.multiply(g, y, out=out)
    out *= tmp
    return out


def tanh_back(y, g, out, tmp):
    np.multiply(y, y, out=tmp)
    np.subtract(1, tmp, out=tmp)
    return np.multiply(g, tmp, out=out)


def linear_back(y, g, out, tmp):
    np.copyto(out, g)
    return out


# activation -> ``back(y, g, out, tmp)``: d/dz from the output y alone, in place, in
# TensorFlow's order (SigmoidGrad g * y * (1 - y), TanhGrad g * (1 - y * y))
FROM_OUTPUT = {"sigmoid": sigmoid_back, "tanh": tanh_back, "linear": linear_back}


class Through:
    """One activation's backward inside a step: from the output where ``FROM_OUTPUT`` has it,
    else through act_grad at the pre-activation ``pre()`` (computed only then)."""

    def __init__(self, ref, B, u, dtype):
        self.ref = ref
        self.fast = None if ref.args else FROM_OUTPUT.get(ref.name)
        self.tmp = np.empty((B, u), dtype)

    def __call__(self, y, g, out, pre):
        if self.fast is not None:
            return self.fast(y, g, out, self.tmp[:, :y.shape[1]])
        out[...] = act_grad(self.ref, pre(), y, g)
        return out


def drop(masks, g):
    return None if masks is None else masks[g if len(masks) > 1 else 0]


def input_proj(x, W, ind, gates, u, T):
    """Recompute every step's input projection ``x_g @ W_g`` (pre-bias): (T, B, G)."""
    if ind is None:
        return (x @ W).reshape(T, -1, W.shape[1])
    cols = [(x * np.tile(drop(ind, g), (T, 1))) @ W[:, g * u:(g + 1) * u] for g in range(gates)]
    return np.concatenate(cols, axis=1).reshape(T, -1, W.shape[1])


def rec(h, U, rd, gates, u, first=0):
    """``(h * mask_g) @ U_g`` for gates first..first+gates-1, concatenated."""
    if rd is None:
        return h @ U[:, first * u:(first + gates) * u]
    return np.concatenate([(h * drop(rd, g)) @ U[:, g * u:(g + 1) * u]
                           for g in range(first, first + gates)], axis=1)


def rec_back(gz, U, rd, out, first=0):
    """d/dh_prev of ``_rec`` into ``out``: one GEMM without recurrent dropout."""
    u = U.shape[0]
    count = gz.shape[1] // u
    if rd is None:
        return np.matmul(gz, U[:, first * u:(first + count) * u].T, out=out)
    out[...] = 0
    for k in range(count):
        g = first + k
        out += (gz[:, k * u:(k + 1) * u] @ U[:, g * u:(g + 1) * u].T) * drop(rd, g)
    return out


def rec_weight_grad(Hp, h0, gz, rd, gU, first=0):
    """``gU[:, gates] += sum_t (h_{t-1} * mask_g).T @ gz[t]_g``, every step in one GEMM;
    ``Hp`` holds h_1..h_{T-1} (what steps 1..T-1 read), ``h0`` the first step's. (TensorFlow
    adds one step's product at a time: that order costs the LSTM training step a third more
    time here, for sums an ulp apart.)"""
    k = gz.shape[2]
    u = h0.shape[1]
    flat = gz[1:].reshape(-1, k)
    for lo, hi in ([(0, k)] if rd is None else [(j * u, (j + 1) * u) for j in range(k // u)]):
        m = drop(rd, first + lo // u)
        hp, h_0 = (Hp, h0) if m is None else (Hp * m, h0 * m)
        cols = slice(first * u + lo, first * u + hi)
        gU[:, cols] += hp.reshape(-1, u).T @ flat[:, lo:hi] + h_0.T @ gz[0][:, lo:hi]


class Step:
    """What every step of one backward pass shares: its buffers and activations' backward."""

    def __init__(self, kind, c, cache, U, rd, u, B, dt):
        self.c, self.cache, self.U, self.rd, self.u = c, cache, U, rd, u
        self.act = Through(c.a["activation"], B, u, dt)
        # SimpleRNN has no recurrent activation
        self.ract = Through(c.a["recurrent_activation"], B, u, dt) if "recurrent_activation" in c.a else None
        self.t1, self.t2, self.t3 = (np.empty((B, u), dt) for _ in range(3))
        self.rec_width = kind.gates * u
        self._zx = None
        self.kind = kind

    def pre(self, t, h_prev, lo, hi, part=None):
        """Gates lo..hi's pre-activations at step t (only for activations outside FROM_OUTPUT)."""
        if self._zx is None:
            c, cache, u = self.c, self.cache, self.u
            T = cache["gates"].shape[0]
            self._zx = input_proj(cache["x"], c.w["kernel"], cache["in_drop"], self.kind.gates, u, T)
            bx = self.kind.input_bias(c)
            if bx is not None:
                self._zx += bx
        u = self.u
        if part is None:
            part = rec(h_prev, self.U, self.rd, hi - lo, u, lo)
        return self._zx[t][:, lo * u:hi * u] + part
