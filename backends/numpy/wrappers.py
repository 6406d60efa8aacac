"""Bidirectional and TimeDistributed: each runs its inner layers' own kernels
(keras/src/layers/rnn/bidirectional.py, layers/core/time_distributed.py).

An inner layer sees its weights under its own names (the wrapper keeps them as
``forward_lstm/kernel``) through a KernelCall of its own, so the recurrent and
per-step kernels serve unchanged, and their gradients too (grads/wrappers.py).
"""

from __future__ import annotations

import numpy as np

from spec2net.tables import Table

from .base import Kernel, KernelCall
from .initializers import derive_seed

KERNELS = Table("NumPy kernel")


def inner_call(c: KernelCall, layer, masks: list, part: int) -> KernelCall:
    """The KernelCall of the wrapper's inner ``layer``: its weights without the name prefix."""
    prefix = layer.name + "/"
    w = {k[len(prefix):]: v for k, v in c.w.items() if k.startswith(prefix)}
    seed = None if c.seed is None else derive_seed("inner", c.seed, part)
    return KernelCall(layer, w, masks, c.training, c.dtype, seed, c.keep)


def run_inner(c: KernelCall, layer, xs: list, masks: list, part: int):
    """``(outputs, cache, call)`` of one inner layer; its weight updates (BN statistics) go to
    the wrapper's, under the prefixed names."""
    from .kernels import KERNELS as ALL  # the table that gathers this module's own

    sub = inner_call(c, layer, masks, part)
    outs, cache = ALL[layer.type].forward(sub, xs)
    for name, value in sub.updates.items():
        c.updates[layer.name + "/" + name] = value
    return outs, cache, sub


def split_states(xs: list) -> tuple[list, list]:
    """initial_state [forward states..., backward states...] split at its halfway point, as Keras does."""
    states = xs[1:]
    half = len(states) // 2
    return states[:half], states[half:]


@KERNELS.register("Bidirectional")
class Bidirectional(Kernel):
    """Forward and backward layer on the same sequence; with return_sequences the backward one's
    outputs are flipped back into time order and (Keras's zero_output_for_mask, which the wrapper
    forces) zero at masked steps; then merged."""

    def forward(self, c, xs):
        a = c.a
        x, (f_init, b_init) = xs[0], split_states(xs)
        # a call with initial_state ignores the mask (the inner layers receive none), as Keras 3.15
        mask = None if f_init or b_init else c.masks[0]
        runs = [run_inner(c, layer, [x, *init], [mask] + [None] * len(init), i)
                for i, (layer, init) in enumerate(((a["layer"], f_init), (a["backward_layer"], b_init)))]
        (f_outs, f_cache, _), (b_outs, b_cache, _) = runs
        seq = a["layer"].args["return_sequences"]
        y, y_rev = f_outs[0], b_outs[0]
        if seq:
            if mask is not None:
                # the backward layer ran over the reversed steps, its mask reversed with them
                y, y_rev = y * mask[:, :, None], y_rev * mask[:, ::-1, None]
            y_rev = y_rev[:, ::-1]
        mode = a["merge_mode"]
        if mode is None:
            merged = [y, y_rev]
        else:
            merged = [MERGE[mode](y, y_rev)]
        states = f_outs[1:] + b_outs[1:]
        cache = None
        if c.keep:
            cache = {"f": f_cache, "b": b_cache, "f_outs": f_outs, "b_outs": b_outs, "y": y, "y_rev": y_rev, "mask": mask}
        return merged + states, cache

    def out_masks(self, c, xs, masks, outs):
        n_seq = 2 if c.a["merge_mode"] is None else 1
        seq_mask = masks[0] if c.a["layer"].args["return_sequences"] else None
        return [seq_mask] * n_seq + [None] * (len(outs) - n_seq)


MERGE = {
    "concat": lambda y, r: np.concatenate([y, r], axis=-1),
    "sum": lambda y, r: y + r,
    "ave": lambda y, r: (y + r) / 2,
    "mul": lambda y, r: y * r,
}


def fold(x):
    """(batch, steps, ...) -> (batch * steps, ...)."""
    return x.reshape(x.shape[0] * x.shape[1], *x.shape[2:])


@KERNELS.register("TimeDistributed")
class TimeDistributed(Kernel):
    """The inner layer on (batch * steps, ...) at once, unfolded back to (batch, steps, ...);
    the inner layer sees no mask (the wrapper passes the steps' mask on)."""

    def forward(self, c, xs):
        x = xs[0]
        outs, cache, _ = run_inner(c, c.a["layer"], [fold(x)], [None], 0)
        y = outs[0].reshape(x.shape[0], x.shape[1], *outs[0].shape[1:])
        return [y], ({"inner": cache, "x": fold(x), "y": outs} if c.keep else None)

    def out_masks(self, c, xs, masks, outs):
        return [masks[0]]
