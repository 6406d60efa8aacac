"""Backpropagation through time for SimpleRNN, LSTM and GRU.

Works from what the forward kept: the (time-major, processing-order) inputs,
every step's post-activation gates and held states (and LSTM's activation of
the cell, GRU's recurrent part), the mask and the dropout masks. Where an
activation's derivative is a function of its output (``FROM_OUTPUT``: sigmoid,
tanh, linear) nothing is recomputed; for the others the pre-activations are
(one GEMM for all input projections, one recurrent matmul per step).

A step writes the gradient of its gates' pre-activations into one (T, B, G)
buffer and sends ``gz @ recurrent_kernel.T`` to the step before; the weights'
gradients are GEMMs over all steps at once after the loop. A masked step held
its state: its gradient passes straight to the step before. What reaches the
first step's states is the gradient of a call's ``initial_state``.
"""

from __future__ import annotations

import numpy as np

from spec2net.tables import Table

from .bptt import Step, drop, rec, rec_back, rec_weight_grad

GRADS = Table("NumPy gradient")


class _BPTT:
    gates = 1

    def __call__(self, c, xs, outs, cache, gys):
        a, w = c.a, c.w
        u = a["units"]
        x, Y, H, mt = cache["x"], cache["gates"], cache["h"], cache["mask"]
        T, B, G = Y.shape
        W, U = w["kernel"], w["recurrent_kernel"]
        ind, rd = cache["in_drop"], cache["rec_drop"]
        dt = Y.dtype
        s = Step(self, c, cache, U, rd, u, B, dt)
        gh, gc = np.zeros((B, u), dt), np.zeros((B, u), dt)
        gseq = None
        if gys[0] is not None:
            if a["return_sequences"]:
                gseq = gys[0].swapaxes(0, 1)
            else:
                gh += gys[0]
        for state, g in zip((gh, gc), gys[1:]):
            if g is not None:
                state += g
        held = None if mt is None else ~mt[:, :, None]
        passed = np.empty((2, B, u), dt) if mt is not None else None
        gZ = np.empty_like(Y)  # d loss / d the gates' pre-activations, input side
        gI = np.empty((T, B, s.rec_width), dt) if self.split else gZ  # the recurrent side, where it differs
        init_h = cache["init"][0]
        for t in range(T - 1, -1, -1):
            if gseq is not None:
                gh += gseq[t]
            if held is not None:  # a held row's gradient skips the step, the others go through it
                for k, state in enumerate((gh, gc)):
                    np.copyto(passed[k], 0)
                    np.copyto(passed[k], state, where=held[t])
                    np.copyto(state, 0, where=held[t])
            h_prev = H[t - 1] if t else init_h
            self.step(s, t, Y[t], h_prev, gh, gc, gZ[t], gI[t])
            if held is not None:
                gh += passed[0]
                gc += passed[1]
        flat = gZ.reshape(T * B, G)
        if ind is None:
            gW, gx = x.T @ flat, flat @ W.T
        else:
            gW, gx = np.zeros_like(W), np.zeros_like(x)
            for g in range(self.gates):
                cols = slice(g * u, (g + 1) * u)
                m = np.tile(drop(ind, g), (T, 1))
                gW[:, cols] = (x * m).T @ flat[:, cols]
                gx += (flat[:, cols] @ W[:, cols].T) * m
        gU = np.zeros_like(U)
        self.rec_weight_grads(c, cache, H, init_h, gI, rd, gU)
        gw = {"kernel": gW, "recurrent_kernel": gU}
        if a["use_bias"]:
            gw["bias"] = self.bias_grad(c, flat.sum(0), gI)
        gx = gx.reshape(T, B, -1)
        if a["go_backwards"]:
            gx = gx[::-1]
        g_init = [gh, gc][:len(xs) - 1]  # the initial_state inputs, if any
        return [np.ascontiguousarray(gx.swapaxes(0, 1)), *g_init], gw

    split = False  # GRU's recurrent-side gradient differs from its input side's

    def rec_weight_grads(self, c, cache, H, h0, gI, rd, gU):
        rec_weight_grad(H[:-1], h0, gI, rd, gU)

    def input_bias(self, c):
        return c.w["bias"] if c.a["use_bias"] else None

    def bias_grad(self, c, gin, gI):
        return gin


@GRADS.register("SimpleRNN")
class _SimpleRNN(_BPTT):
    def step(self, s, t, y, h_prev, gh, gc, gz, gi):
        s.act(y, gh, gz, lambda: s.pre(t, h_prev, 0, 1))
        rec_back(gz, s.U, s.rd, gh)


@GRADS.register("LSTM")
class _LSTM(_BPTT):
    gates = 4

    def step(self, s, t, y, h_prev, gh, gc, gz, gi):
        u, cache = s.u, s.cache
        i, f, g, o = (y[:, k * u:(k + 1) * u] for k in range(4))
        c_prev = cache["cells"][t - 1] if t else cache["init"][1]
        ac = cache["acts"][t]
        t1 = s.t1

        def c_new():
            return f * c_prev + i * g

        # gc += activation'(c) * gh * o
        s.act(ac, np.multiply(gh, o, out=t1), t1, c_new)
        gc += t1

        def pre(k):
            return lambda: s.pre(t, h_prev, k, k + 1)

        s.ract(i, np.multiply(gc, g, out=t1), gz[:, :u], pre(0))
        s.ract(f, np.multiply(gc, c_prev, out=t1), gz[:, u:2 * u], pre(1))
        s.act(g, np.multiply(gc, i, out=t1), gz[:, 2 * u:3 * u], pre(2))
        s.ract(o, np.multiply(gh, ac, out=t1), gz[:, 3 * u:], pre(3))
        gc *= f
        rec_back(gz, s.U, s.rd, gh)


@GRADS.register("GRU")
class _GRU(_BPTT):
    gates = 3
    split = True

    def input_bias(self, c):
        if not c.a["use_bias"]:
            return None
        return c.w["bias"][0] if c.a["reset_after"] else c.w["bias"]

    def bias_grad(self, c, gin, gI):
        return np.stack([gin, gI.reshape(-1, gI.shape[-1]).sum(0)]) if c.a["reset_after"] else gin

    def rec_weight_grads(self, c, cache, H, h0, gI, rd, gU):
        if c.a["reset_after"]:
            return rec_weight_grad(H[:-1], h0, gI, rd, gU)
        u = H.shape[2]
        rec_weight_grad(H[:-1], h0, gI[:, :, :2 * u], rd, gU)
        # the h gate's recurrent input is r * h (its dropout mask inside), which the forward kept
        RH = cache["recurrent_h"]
        gU[:, 2 * u:] += RH.reshape(-1, u).T @ gI[:, :, 2 * u:].reshape(-1, u)

    def step(self, s, t, y, h_prev, gh, gc, gz, gi):
        a, u = s.c.a, s.u
        z, r, hh = y[:, :u], y[:, u:2 * u], y[:, 2 * u:]
        t1, t2, t3 = s.t1, s.t2, s.t3
        inner_h = s.cache["recurrent_h"][t]  # reset_after: h U_h + b'_h; else r * h (masked)
        gzv = np.multiply(gh, np.subtract(h_prev, hh, out=t1), out=t1)
        ghh = np.multiply(gh, np.subtract(1, z, out=t2), out=t2)
        ghh_pre = gz[:, 2 * u:]
        after = a["reset_after"]
        if after:
            inner = None

            def pre_h():
                return s.pre(t, h_prev, 2, 3, 0) + r * inner_h

            def pre_zr(k):
                nonlocal inner
                if inner is None:
                    inner = rec(h_prev, s.U, s.rd, 3, u)
                    if a["use_bias"]:
                        inner += s.c.w["bias"][1]
                return lambda: s.pre(t, h_prev, k, k + 1, inner[:, k * u:(k + 1) * u])

            s.act(hh, ghh, ghh_pre, pre_h)
            s.ract(z, gzv, gi[:, :u], pre_zr(0))
            s.ract(r, np.multiply(ghh_pre, inner_h, out=t3), gi[:, u:2 * u], pre_zr(1))
            np.multiply(ghh_pre, r, out=gi[:, 2 * u:])
            gz[:, :2 * u] = gi[:, :2 * u]
            np.multiply(gh, z, out=t3)  # the direct path h_prev -> h
            gh[...] = t3
            gh += rec_back(gi, s.U, s.rd, t1)
            return
        mh = drop(s.rd, 2)
        Uh = s.U[:, 2 * u:]
        s.act(hh, ghh, ghh_pre, lambda: s.pre(t, h_prev, 2, 3, inner_h @ Uh))
        gi[:, 2 * u:] = ghh_pre
        g_rh = np.matmul(ghh_pre, Uh.T, out=t2)
        hm = h_prev if mh is None else h_prev * mh
        rec_zr = None

        def pre_zr(k):
            def f():
                nonlocal rec_zr
                if rec_zr is None:
                    rec_zr = rec(h_prev, s.U, s.rd, 2, u)
                return s.pre(t, h_prev, k, k + 1, rec_zr[:, k * u:(k + 1) * u])
            return f

        s.ract(z, gzv, gi[:, :u], pre_zr(0))
        s.ract(r, np.multiply(g_rh, hm, out=t3), gi[:, u:2 * u], pre_zr(1))
        gz[:, :2 * u] = gi[:, :2 * u]
        direct = np.multiply(gh, z, out=t1)
        np.multiply(g_rh, r, out=t3)
        if mh is not None:
            t3 *= mh
        direct += t3
        gh[...] = direct
        gh += rec_back(gi[:, :2 * u], s.U, s.rd, t3)
