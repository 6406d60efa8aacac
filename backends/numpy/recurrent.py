"""SimpleRNN, LSTM and GRU with Keras 3's cell mathematics (keras/src/layers/rnn/*.py) and
its CPU loop (keras/src/backend/tensorflow/rnn.py).

The sequence is turned time-major once and every input projection is one GEMM
(``XW``, our own buffer); each step then adds ``h @ recurrent_kernel`` and
applies the gate activations in place in ``XW[t]``, so after the loop ``XW``
holds every step's gate values for a backward pass. A masked step keeps the
previous state, and its output repeats the previous output (Keras's
``zero_output_for_mask=False``); ``go_backwards`` reverses the mask with the
steps, and the returned sequence stays in processing order, as in Keras.
A call with ``initial_state`` (the node's inputs after the first) starts from
those states and, as Keras 3.15 does, ignores the input's mask.
"""

from __future__ import annotations

import numpy as np

from spec2net.tables import Table

from .activations import activation
from .base import Kernel, KernelCall

KERNELS = Table("NumPy kernel")


def _drop_masks(c: KernelCall, rate, count, shape, dtype):
    """Keras's cell dropout masks: fixed for the whole sequence, one per gate when ``count`` > 1."""
    if not (c.training and 0.0 < rate < 1.0):
        return None
    keep = c.rng().random((count, *shape)) >= rate
    return (keep / (1.0 - rate)).astype(dtype)


def _gate_matmul(h, U, masks, u, lo, hi, out=None):
    """``h @ U[:, lo*u:hi*u]``; with recurrent dropout, gate g sees ``h * masks[g]``."""
    if masks is None:
        return np.matmul(h, U[:, lo * u:hi * u] if (lo, hi) != (0, U.shape[1] // u) else U, out=out)
    per_gate = [np.matmul(h * masks[g if len(masks) > 1 else 0], U[:, g * u:(g + 1) * u]) for g in range(lo, hi)]
    return np.concatenate(per_gate, axis=1, out=out)


class _Recurrent(Kernel):
    gates = 1
    n_states = 1
    per_gate_masks = True  # LSTM and GRU switch to per-gate dropout masks with recurrent_dropout

    def biases(self, c: KernelCall):
        """(bias added to the input projection, bias added to ``h @ recurrent_kernel``)."""
        return (c.w["bias"] if c.a["use_bias"] else None), None

    def forward(self, c: KernelCall, xs):
        x, a, init = xs[0], c.a, xs[1:]
        u, G = a["units"], self.gates * a["units"]
        B, T, F = x.shape
        mask = None if init else c.masks[0]  # Keras 3.15 drops the mask of a call with initial_state
        xt, mt = x.swapaxes(0, 1), (None if mask is None else mask.swapaxes(0, 1))
        if a["go_backwards"]:
            xt, mt = xt[::-1], (None if mt is None else mt[::-1])
        count = self.gates if self.per_gate_masks and a["recurrent_dropout"] > 0 else 1
        in_drop = _drop_masks(c, a["dropout"], count, (B, F), x.dtype)
        rec_drop = _drop_masks(c, a["recurrent_dropout"], count, (B, u), x.dtype)
        bx, bh = self.biases(c)
        W = c.w["kernel"]
        xt = np.ascontiguousarray(xt).reshape(T * B, F)
        if in_drop is None:
            XW = np.matmul(xt, W)  # every step's input projection in one GEMM
        else:
            XW = np.concatenate([np.matmul(xt * np.tile(in_drop[g % len(in_drop)], (T, 1)), W[:, g * u:(g + 1) * u])
                                 for g in range(self.gates)], axis=1)
        if bx is not None:
            XW += bx
        XW = XW.reshape(T, B, G)
        keep_seq = a["return_sequences"] or c.keep
        seq = np.empty((T, B, u), x.dtype) if keep_seq else None
        init = [np.asarray(s, x.dtype) for s in init] or [np.zeros((B, u), x.dtype)] * self.n_states
        states, extra = self.loop(c, XW, c.w["recurrent_kernel"], bh, mt, seq, rec_drop, init)
        out = np.ascontiguousarray(seq.swapaxes(0, 1)) if a["return_sequences"] else states[0]
        cache = dict(x=xt, gates=XW, h=seq, mask=mt, in_drop=in_drop, rec_drop=rec_drop, init=init,
                     **extra) if c.keep else None
        return [out] + (list(states) if a["return_state"] else []), cache

    def out_masks(self, c, xs, masks, outs):
        seq_mask = masks[0] if c.a["return_sequences"] else None
        return [seq_mask] + [None] * (len(outs) - 1)


def _hold(mt, t, new, old):
    """Keras's masked step: where the step is masked, the previous value stays."""
    return new if mt is None else np.where(mt[t][:, None], new, old)


@KERNELS.register("SimpleRNN")
class SimpleRNN(_Recurrent):
    per_gate_masks = False

    def loop(self, c, XW, U, bh, mt, seq, rd, init):
        T, u = XW.shape[0], XW.shape[2]
        act = activation(c.a["activation"])
        (h,) = init
        for t in range(T):
            z = XW[t]
            z += _gate_matmul(h, U, rd, u, 0, 1)
            h = _hold(mt, t, act(z, out=z), h)
            if seq is not None:
                seq[t] = h
        return [h], {}


@KERNELS.register("LSTM")
class LSTM(_Recurrent):
    """Gates i f c o: ``c = f * c + i * g``, ``h = o * activation(c)``; the recurrent
    activation on i, f and o."""

    gates, n_states = 4, 2

    def loop(self, c, XW, U, bh, mt, seq, rd, init):
        T, B, G = XW.shape
        u = G // 4
        act, ract = activation(c.a["activation"]), activation(c.a["recurrent_activation"])
        h, cs = init
        rec = np.empty((B, G), XW.dtype)
        cells = np.empty((T, B, u), XW.dtype) if c.keep else None
        for t in range(T):
            z = XW[t]
            z += _gate_matmul(h, U, rd, u, 0, 4, out=rec)
            ract(z[:, :2 * u], out=z[:, :2 * u])
            act(z[:, 2 * u:3 * u], out=z[:, 2 * u:3 * u])
            ract(z[:, 3 * u:], out=z[:, 3 * u:])
            c_new = z[:, u:2 * u] * cs
            c_new += z[:, :u] * z[:, 2 * u:3 * u]
            h_new = act(c_new) * z[:, 3 * u:]  # a new array: a linear activation returns c_new itself
            cs, h = _hold(mt, t, c_new, cs), _hold(mt, t, h_new, h)
            if seq is not None:
                seq[t] = h
            if cells is not None:
                cells[t] = cs
        return [h, cs], {"cells": cells}


@KERNELS.register("GRU")
class GRU(_Recurrent):
    """Gates z r h: ``h = z * h_prev + (1 - z) * hh``; with ``reset_after`` (bias (2, 3u):
    input row, recurrent row) ``hh = act(x W_h + b_h + r * (h U_h + b'_h))``, else
    ``hh = act(x W_h + b_h + (r * h) U_h)``."""

    gates = 3

    def biases(self, c):
        if not c.a["use_bias"]:
            return None, None
        b = c.w["bias"]
        return (b[0], b[1]) if c.a["reset_after"] else (b, None)

    def loop(self, c, XW, U, bh, mt, seq, rd, init):
        T, B, G = XW.shape
        u = G // 3
        act, ract = activation(c.a["activation"]), activation(c.a["recurrent_activation"])
        after = c.a["reset_after"]
        (h,) = init
        inner = np.empty((B, G if after else 2 * u), XW.dtype)
        rec_h = np.empty((T, B, u), XW.dtype) if c.keep else None
        for t in range(T):
            x = XW[t]
            _gate_matmul(h, U, rd, u, 0, 3 if after else 2, out=inner)
            if after and bh is not None:
                inner += bh
            zr = x[:, :2 * u]
            zr += inner[:, :2 * u]
            ract(zr, out=zr)
            z, r = zr[:, :u], zr[:, u:]
            hh = x[:, 2 * u:]
            if after:
                rh = inner[:, 2 * u:]
                hh += r * rh
            else:
                rh = r * h if rd is None else r * (h * rd[-1])
                hh += np.matmul(rh, U[:, 2 * u:])
            if rec_h is not None:
                rec_h[t] = rh
            act(hh, out=hh)
            h_new = z * h
            h_new += (1.0 - z) * hh
            h = _hold(mt, t, h_new, h)
            if seq is not None:
                seq[t] = h
        return [h], {"recurrent_h": rec_h}
