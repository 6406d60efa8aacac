"""SimpleRNN, LSTM and GRU with Keras 3's cell mathematics (keras/src/layers/rnn/*.py) and
its CPU loop (keras/src/backend/tensorflow/rnn.py).

The sequence is turned time-major once and every input projection is one GEMM
(``XW``, our own buffer); each step then adds ``h @ recurrent_kernel`` and
applies the gate activations in place in ``XW[t]``, so after the loop ``XW``
holds every step's gate values for a backward pass. The loops write into
buffers allocated once per call (no per-step arrays): a step costs one small
GEMM and a dozen in-place ufuncs. Where every gate activation is a tanh form
(``GATE_FORMS``: sigmoid and tanh, the defaults), the gate columns of the
weights are prescaled once by a power of 2 -- exactly, so the values do not
change -- and one ``tanh`` over all gates replaces a call per activation.

A masked step keeps the previous state, and its output repeats the previous
output (Keras's ``zero_output_for_mask=False``); ``go_backwards`` reverses the
mask with the steps, and the returned sequence stays in processing order, as
in Keras. A call with ``initial_state`` (the node's inputs after the first)
starts from those states and, as Keras 3.15 does, ignores the input's mask.
"""

from __future__ import annotations

import numpy as np

from spec2net.tables import Table

from .activations import activation
from .base import Kernel, KernelCall

KERNELS = Table("NumPy kernel")


# act(z) = scale * tanh(z * pre) + shift for the activations one tanh serves (sigmoid(z) is
# 0.5 * tanh(z / 2) + 0.5, as activations.sigmoid computes it): name -> (pre, scale, shift).
# 1 / (1 + exp(-z)) saves a tenth of the gates' time in NumPy but not measurably of a step's
# (bench/numpy_engine.py), and moves the values by an ulp: the tanh form keeps them bitwise.
GATE_FORMS = {"sigmoid": (0.5, 0.5, 0.5), "tanh": (1.0, 1.0, 0.0)}


def gate_forms(refs) -> list | None:
    """The (pre, scale, shift) of each activation reference, or None unless all have one."""
    forms = [None if ref.args else GATE_FORMS.get(ref.name) for ref in refs]
    return None if None in forms else forms


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


def _prescale(arrays, forms, u):
    """Copies of ``arrays`` (kernels, biases: gates on the last axis) with gate g's columns times
    its form's ``pre``; multiplying by a power of 2 is exact, so ``tanh(z * pre)`` is unchanged."""
    out = []
    for a in arrays:
        if a is not None and any(f[0] != 1.0 for f in forms):
            a = a.copy()
            for g, f in enumerate(forms):
                if f[0] != 1.0:
                    a[..., g * u:(g + 1) * u] *= a.dtype.type(f[0])
        out.append(a)
    return out


def _gates(z, forms, u):
    """The gates of ``z`` (prescaled pre-activations, gates on the last axis) in place: one tanh,
    then each gate's affine map (adjacent gates with one map in one call)."""
    np.tanh(z, out=z)
    g = 0
    while g < len(forms):
        end = g + 1
        while end < len(forms) and forms[end] == forms[g]:
            end += 1
        _, scale, shift = forms[g]
        if (scale, shift) != (1.0, 0.0):
            part = z[:, g * u:end * u]
            part *= z.dtype.type(scale)
            part += z.dtype.type(shift)
        g = end


def _hold(held, new, old):
    """Keras's masked step, in place: where the step is masked (``held`` true), ``new`` takes
    the previous value."""
    if held is not None:
        np.copyto(new, old, where=held)
    return new


class _Recurrent(Kernel):
    gates = 1
    n_states = 1
    per_gate_masks = True  # LSTM and GRU switch to per-gate dropout masks with recurrent_dropout

    def biases(self, c: KernelCall):
        """(bias added to the input projection, bias added to ``h @ recurrent_kernel``)."""
        return (c.w["bias"] if c.a["use_bias"] else None), None

    def forms(self, c: KernelCall):
        """Each gate's tanh form where the fused path serves this layer, else None."""

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
        forms = self.forms(c)
        bx, bh = self.biases(c)
        W, U = c.w["kernel"], c.w["recurrent_kernel"]
        if forms is not None:
            W, U, bx, bh = _prescale((W, U, bx, bh), forms, u)
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
        held = None if mt is None else ~mt[:, :, None]  # (T, B, 1): the rows each step holds
        states, extra = self.loop(c, XW, U, bh, held, seq, rec_drop, init, forms)
        out = np.ascontiguousarray(seq.swapaxes(0, 1)) if a["return_sequences"] else states[0]
        cache = dict(x=xt, gates=XW, h=seq, mask=mt, in_drop=in_drop, rec_drop=rec_drop, init=init,
                     **extra) if c.keep else None
        return [out] + (list(states) if a["return_state"] else []), cache

    def out_masks(self, c, xs, masks, outs):
        seq_mask = masks[0] if c.a["return_sequences"] else None
        return [seq_mask] + [None] * (len(outs) - 1)


def _outputs(seq, T, shape, dtype):
    """Where step t writes its state: ``seq[t]`` when the sequence is kept, else one of two
    buffers in turn (a step reads the previous state while writing the new one)."""
    if seq is not None:
        return seq
    pair = np.empty((2, *shape), dtype)
    return [pair[t % 2] for t in range(T)]


@KERNELS.register("SimpleRNN")
class SimpleRNN(_Recurrent):
    per_gate_masks = False

    def loop(self, c, XW, U, bh, held, seq, rd, init, forms):
        T, B, u = XW.shape
        act = activation(c.a["activation"])
        (h,) = init
        rec = np.empty((B, u), XW.dtype)
        outs = _outputs(seq, T, (B, u), XW.dtype)
        for t in range(T):
            z = XW[t]
            z += _gate_matmul(h, U, rd, u, 0, 1, out=rec)
            act(z, out=z)
            h = _hold(None if held is None else held[t], _copy(z, outs[t]), h)
        return [h], {}


def _copy(src, dst):
    np.copyto(dst, src)
    return dst


@KERNELS.register("LSTM")
class LSTM(_Recurrent):
    """Gates i f c o: ``c = f * c + i * g``, ``h = o * activation(c)``; the recurrent
    activation on i, f and o."""

    gates, n_states = 4, 2

    def forms(self, c):
        ract, act = c.a["recurrent_activation"], c.a["activation"]
        return gate_forms([ract, ract, act, ract])

    def loop(self, c, XW, U, bh, held, seq, rd, init, forms):
        T, B, G = XW.shape
        u = G // 4
        dt = XW.dtype
        act, ract = activation(c.a["activation"]), activation(c.a["recurrent_activation"])
        h, cs = init
        rec, prod = np.empty((B, G), dt), np.empty((B, u), dt)
        hs = _outputs(seq, T, (B, u), dt)
        cells = np.empty((T, B, u), dt) if c.keep else _outputs(None, T, (B, u), dt)
        # activation(c) of every step, which the backward pass reads back
        acts = np.empty((T, B, u), dt) if c.keep else [prod] * T
        for t in range(T):
            z = XW[t]
            z += _gate_matmul(h, U, rd, u, 0, 4, out=rec)
            i, f, g, o = z[:, :u], z[:, u:2 * u], z[:, 2 * u:3 * u], z[:, 3 * u:]
            if forms is not None:
                _gates(z, forms, u)
            else:
                ract(z[:, :2 * u], out=z[:, :2 * u])
                act(g, out=g)
                ract(o, out=o)
            c_new = np.multiply(f, cs, out=cells[t])
            c_new += np.multiply(i, g, out=rec[:, :u])
            ac = act(c_new, out=acts[t])
            h_new = np.multiply(ac, o, out=hs[t])
            row = None if held is None else held[t]
            cs, h = _hold(row, c_new, cs), _hold(row, h_new, h)
        return [h, cs], ({"cells": cells, "acts": acts} if c.keep else {})


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

    def forms(self, c):
        # z and r fused; the h gate is not prescaled (r multiplies inside its activation, a call)
        ract = gate_forms([c.a["recurrent_activation"]])
        return None if ract is None else ract * 2 + [GATE_FORMS["tanh"]]

    def loop(self, c, XW, U, bh, held, seq, rd, init, forms):
        T, B, G = XW.shape
        u = G // 3
        dt = XW.dtype
        act, ract = activation(c.a["activation"]), activation(c.a["recurrent_activation"])
        after = c.a["reset_after"]
        (h,) = init
        width = G if after else 2 * u
        inner = np.empty((B, width), dt)
        # what the backward pass reads of each step: reset_after's h U_h + b'_h, else r * h
        rec_h = np.empty((T, B, u), dt) if c.keep else None
        t1, t2 = np.empty((B, u), dt), np.empty((B, u), dt)
        hs = _outputs(seq, T, (B, u), dt)
        for t in range(T):
            x = XW[t]
            _gate_matmul(h, U, rd, u, 0, 3 if after else 2, out=inner)
            if after and bh is not None:
                inner += bh
            zr = x[:, :2 * u]
            zr += inner[:, :2 * u]
            if forms is not None:
                _gates(zr, forms[:2], u)
            else:
                ract(zr, out=zr)
            z, r = zr[:, :u], zr[:, u:]
            hh = x[:, 2 * u:]
            if after:
                if rec_h is not None:
                    rec_h[t] = inner[:, 2 * u:]
                hh += np.multiply(r, inner[:, 2 * u:], out=t1)
            else:
                rh = np.multiply(r, h if rd is None else np.multiply(h, rd[-1], out=t2), out=t1)
                if rec_h is not None:
                    rec_h[t] = rh
                hh += np.matmul(rh, U[:, 2 * u:], out=t2)
            act(hh, out=hh)
            h_new = np.multiply(z, h, out=hs[t])
            np.subtract(1.0, z, out=t1)
            h_new += np.multiply(t1, hh, out=t1)
            h = _hold(None if held is None else held[t], h_new, h)
        return [h], ({"recurrent_h": rec_h} if c.keep else {})
