"""Backpropagation through time for SimpleRNN, LSTM and GRU.

Works from what the forward kept: the (time-major, processing-order) inputs,
every step's post-activation gates and held states, the mask and the dropout
masks. Pre-activations are recomputed from those (one GEMM for all input
projections, one recurrent matmul per step), so any activation works. A
masked step held its state: its gradient passes straight to the step before.
What reaches the first step's states is the gradient of a call's ``initial_state``.
"""

from __future__ import annotations

import numpy as np

from spec2net.tables import Table

from ..activations import activation
from .activations import act_grad

GRADS = Table("NumPy gradient")


def _gate_slices(count, u):
    return [slice(g * u, (g + 1) * u) for g in range(count)]


def _drop(masks, g):
    return None if masks is None else masks[g if len(masks) > 1 else 0]


def _input_proj(x, W, ind, gates, u, T):
    """Recompute every step's input projection ``x_g @ W_g`` (pre-bias): (T, B, G)."""
    if ind is None:
        return (x @ W).reshape(T, -1, W.shape[1])
    cols = [(x * np.tile(_drop(ind, g), (T, 1))) @ W[:, s] for g, s in enumerate(_gate_slices(gates, u))]
    return np.concatenate(cols, axis=1).reshape(T, -1, W.shape[1])


def _rec(h, U, rd, gates, u, first=0):
    """``(h * mask_g) @ U_g`` for gates first..first+gates-1, concatenated."""
    if rd is None:
        return h @ U[:, first * u:(first + gates) * u]
    return np.concatenate([(h * _drop(rd, g)) @ U[:, g * u:(g + 1) * u]
                           for g in range(first, first + gates)], axis=1)


def _rec_back(g_inner, h_prev, U, rd, gU, first=0):
    """Accumulate ``gU`` and return d/dh_prev of ``_rec``."""
    u = U.shape[0]
    gh = np.zeros_like(h_prev)
    for k in range(g_inner.shape[1] // u):
        g = first + k
        gi = g_inner[:, k * u:(k + 1) * u]
        m = _drop(rd, g)
        hm = h_prev if m is None else h_prev * m
        gU[:, g * u:(g + 1) * u] += hm.T @ gi
        back = gi @ U[:, g * u:(g + 1) * u].T
        gh += back if m is None else back * m
    return gh


class _Acc:
    """The recurrent kernel's gradient (and GRU's recurrent bias's), summed over the steps."""

    def __init__(self, gU, gbh):
        self.gU, self.gbh = gU, gbh


class _BPTT:
    gates = 1

    def __call__(self, c, xs, outs, cache, gys):
        a, w = c.a, c.w
        u = a["units"]
        x, Y, H, mt = cache["x"], cache["gates"], cache["h"], cache["mask"]
        T, B, G = Y.shape
        W, U = w["kernel"], w["recurrent_kernel"]
        ind, rd = cache["in_drop"], cache["rec_drop"]
        ZX = _input_proj(x, W, ind, self.gates, u, T)
        bx = self.input_bias(c)
        if bx is not None:
            ZX += bx
        gseq = None
        state = {"h": np.zeros((B, u), Y.dtype), "c": np.zeros((B, u), Y.dtype)}
        if gys[0] is not None:
            if a["return_sequences"]:
                gseq = gys[0].swapaxes(0, 1)
            else:
                state["h"] = state["h"] + gys[0]
        for key, g in zip(("h", "c"), gys[1:]):
            if g is not None:
                state[key] = state[key] + g
        gZ = np.empty_like(Y)
        acc = _Acc(np.zeros_like(U), np.zeros((G,), Y.dtype))
        for t in range(T - 1, -1, -1):
            if gseq is not None:
                state["h"] = state["h"] + gseq[t]
            h_prev = H[t - 1] if t else cache["init"][0]
            held = None if mt is None else mt[t][:, None]
            passed = {}
            for key in ("h", "c"):
                if held is not None:
                    passed[key] = np.where(held, 0, state[key])
                    state[key] = np.where(held, state[key], 0)
            gZ[t], gh_prev = self.step(c, t, ZX[t], Y[t], h_prev, cache, state, U, rd, u, acc)
            state["h"] = gh_prev + passed.get("h", 0)
            if "c" in passed:
                state["c"] = state["c"] + passed["c"]
        flat = gZ.reshape(T * B, G)
        if ind is None:
            gW, gx = x.T @ flat, flat @ W.T
        else:
            gW, gx = np.zeros_like(W), np.zeros_like(x)
            for g, s in enumerate(_gate_slices(self.gates, u)):
                m = np.tile(_drop(ind, g), (T, 1))
                gW[:, s] = (x * m).T @ flat[:, s]
                gx += (flat[:, s] @ W[:, s].T) * m
        gw = {"kernel": gW, "recurrent_kernel": acc.gU}
        if a["use_bias"]:
            gw["bias"] = self.bias_grad(c, flat.sum(0), acc)
        gx = gx.reshape(T, B, -1)
        if a["go_backwards"]:
            gx = gx[::-1]
        g_init = [state["h"], state["c"]][:len(xs) - 1]  # the initial_state inputs, if any
        return [np.ascontiguousarray(gx.swapaxes(0, 1)), *g_init], gw

    def input_bias(self, c):
        return c.w["bias"] if c.a["use_bias"] else None

    def bias_grad(self, c, gin, acc):
        return gin


@GRADS.register("SimpleRNN")
class _SimpleRNN(_BPTT):
    def step(self, c, t, zx, y, h_prev, cache, state, U, rd, u, acc):
        z = zx + _rec(h_prev, U, rd, 1, u)
        gz = act_grad(c.a["activation"], z, y, state["h"])
        return gz, _rec_back(gz, h_prev, U, rd, acc.gU)


@GRADS.register("LSTM")
class _LSTM(_BPTT):
    gates = 4

    def step(self, c, t, zx, y, h_prev, cache, state, U, rd, u, acc):
        a = c.a
        z = zx + _rec(h_prev, U, rd, 4, u)
        i, f, g, o = (y[:, k * u:(k + 1) * u] for k in range(4))
        c_prev = cache["cells"][t - 1] if t else cache["init"][1]
        c_new = f * c_prev + i * g
        ac = activation(a["activation"])(c_new)
        gh = state["h"]
        gc = state["c"] + act_grad(a["activation"], c_new, ac, gh * o)
        parts = [(gc * g, i), (gc * c_prev, f), (gc * i, g), (gh * ac, o)]
        acts = [a["recurrent_activation"], a["recurrent_activation"], a["activation"], a["recurrent_activation"]]
        gz = np.concatenate([act_grad(fn, z[:, k * u:(k + 1) * u], val, gv)
                             for k, ((gv, val), fn) in enumerate(zip(parts, acts))], axis=1)
        state["c"] = gc * f
        return gz, _rec_back(gz, h_prev, U, rd, acc.gU)


@GRADS.register("GRU")
class _GRU(_BPTT):
    gates = 3

    def input_bias(self, c):
        if not c.a["use_bias"]:
            return None
        return c.w["bias"][0] if c.a["reset_after"] else c.w["bias"]

    def bias_grad(self, c, gin, acc):
        return np.stack([gin, acc.gbh]) if c.a["reset_after"] else gin

    def step(self, c, t, zx, y, h_prev, cache, state, U, rd, u, acc):
        a = c.a
        z, r, hh = y[:, :u], y[:, u:2 * u], y[:, 2 * u:]
        gh = state["h"]
        gzv, ghh = gh * (h_prev - hh), gh * (1 - z)
        direct = gh * z
        if a["reset_after"]:
            inner = _rec(h_prev, U, rd, 3, u)
            if a["use_bias"]:
                inner = inner + c.w["bias"][1]
            pre_zr = zx[:, :2 * u] + inner[:, :2 * u]
            ghh_pre = act_grad(a["activation"], zx[:, 2 * u:] + r * inner[:, 2 * u:], hh, ghh)
            gr = ghh_pre * inner[:, 2 * u:]
            g_inner = np.concatenate([act_grad(a["recurrent_activation"], pre_zr[:, :u], z, gzv),
                                      act_grad(a["recurrent_activation"], pre_zr[:, u:], r, gr),
                                      ghh_pre * r], axis=1)
            acc.gbh += g_inner.sum(0)
            gz = np.concatenate([g_inner[:, :2 * u], ghh_pre], axis=1)
            return gz, direct + _rec_back(g_inner, h_prev, U, rd, acc.gU)
        pre_zr = zx[:, :2 * u] + _rec(h_prev, U, rd, 2, u)
        mh = _drop(rd, 2)
        hm = h_prev if mh is None else h_prev * mh
        rh = r * hm
        Uh = U[:, 2 * u:]
        ghh_pre = act_grad(a["activation"], zx[:, 2 * u:] + rh @ Uh, hh, ghh)
        g_rh = ghh_pre @ Uh.T
        acc.gU[:, 2 * u:] += rh.T @ ghh_pre
        gr = g_rh * hm
        direct = direct + (g_rh * r if mh is None else g_rh * r * mh)
        g_zr = np.concatenate([act_grad(a["recurrent_activation"], pre_zr[:, :u], z, gzv),
                               act_grad(a["recurrent_activation"], pre_zr[:, u:], r, gr)], axis=1)
        gz = np.concatenate([g_zr, ghh_pre], axis=1)
        return gz, direct + _rec_back(g_zr, h_prev, U, rd, acc.gU)

