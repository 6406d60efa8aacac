"""Gradients of Bidirectional and TimeDistributed: the merge's gradient split between the two
directions (or the steps folded into the batch), then the inner layers' own gradients
(backpropagation through time for the recurrent ones), their weights' gradients prefixed."""

from __future__ import annotations

import numpy as np

from spec2net.tables import Table

from ..wrappers import fold, inner_call, split_states
from .base import Grads

GRADS = Table("NumPy gradient")


def _inner_grads(c, layer, xs, masks, outs, cache, gys, part):
    from . import GRADS as ALL  # the table that gathers this module's own

    sub = inner_call(c, layer, masks, part)
    gxs, gw = ALL[layer.type](sub, xs, outs, cache, Grads(gys))
    return gxs, {f"{layer.name}/{k}": g for k, g in gw.items()}


def _merge_grads(mode, g, y, y_rev):
    """d/dy and d/dy_rev of the merged output."""
    if g is None:
        return None, None
    if mode == "concat":
        u = y.shape[-1]
        return g[..., :u], g[..., u:]
    if mode == "sum":
        return g, g
    if mode == "ave":
        return g / 2, g / 2
    return g * y_rev, g * y  # mul


@GRADS.register("Bidirectional")
def _bidirectional(c, xs, outs, cache, gys):
    a = c.a
    mode, seq, mask = a["merge_mode"], a["layer"].args["return_sequences"], cache["mask"]
    n_seq = 2 if mode is None else 1
    if mode is None:
        g_y, g_rev = gys[0], gys[1]
    else:
        g_y, g_rev = _merge_grads(mode, gys[0], cache["y"], cache["y_rev"])
    if seq and g_rev is not None:
        g_rev = g_rev[:, ::-1]  # back into the backward layer's processing order
    if seq and mask is not None:
        g_y = None if g_y is None else g_y * mask[:, :, None]
        g_rev = None if g_rev is None else g_rev * mask[:, ::-1, None]
    n_f = len(cache["f_outs"]) - 1
    g_states = list(gys[n_seq:])
    f_init, b_init = split_states(xs)
    x, gx, g_init, gw = xs[0], 0, [], {}
    halves = ((a["layer"], f_init, "f", g_y, g_states[:n_f]), (a["backward_layer"], b_init, "b", g_rev, g_states[n_f:]))
    for part, (layer, init, key, g_out, g_st) in enumerate(halves):
        if g_out is None and all(g is None for g in g_st):
            g_init += [None] * len(init)
            continue
        masks = [mask] + [None] * len(init)
        gxs, gw_half = _inner_grads(c, layer, [x, *init], masks, cache[key + "_outs"], cache[key], [g_out, *g_st], part)
        gx = gx + gxs[0]
        g_init += list(gxs[1:])
        gw.update(gw_half)
    return [None if isinstance(gx, int) else gx, *g_init], gw


@GRADS.register("TimeDistributed")
def _time_distributed(c, xs, outs, cache, gys):
    x, g = xs[0], gys[0]
    gxs, gw = _inner_grads(c, c.a["layer"], [cache["x"]], [None], cache["y"], cache["inner"], [fold(g)], 0)
    gx = None if gxs[0] is None else np.reshape(gxs[0], x.shape)
    return [gx], gw
