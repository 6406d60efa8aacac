"""Bidirectional and TimeDistributed: each runs its inner layers' own emitters
(keras/src/layers/rnn/bidirectional.py, layers/core/time_distributed.py)."""

from __future__ import annotations

import numpy as np

from spec2net.registry import LAYERS

from .emitter import EMITTERS, Call, Emitter


def inner_call(c: Call, layer, ins: list, in_types: list, masks: list, initial_states: int = 0) -> Call:
    """The Call of the wrapper's inner ``layer``: its weights under ``wrapper/inner/``."""
    defn = LAYERS[layer.type]
    outs = [c.g.name(f"{c.hint}/{layer.name}_{i}") for i in range(defn.n_outputs(layer.args))]
    return Call(c.g, layer, c.prefix + layer.name + "/", c.weights, ins, in_types, [], outs, masks, initial_states)


def _merge_concat(c, y, r, out):
    return c.op("Concat", [y, r], out=out, axis=-1)


def _merge_ave(c, y, r, out):
    return c.op("Div", [c.op("Add", [y, r]), c.g.const(2.0, np.float32)], out=out)


MERGE = {"concat": _merge_concat, "ave": _merge_ave,
         "sum": lambda c, y, r, out: c.op("Add", [y, r], out=out),
         "mul": lambda c, y, r, out: c.op("Mul", [y, r], out=out)}


@EMITTERS.register("Bidirectional")
class Bidirectional(Emitter):
    """The forward layer and the backward one (go_backwards) on one sequence; with
    return_sequences the backward outputs are zero at masked steps (Keras's zero_output_for_mask,
    which the wrapper forces) and flipped back into time order; then merged."""

    def emit(self, c: Call):
        a, x = c.a, c.ins[0]
        states = c.ins[1:]
        half = len(states) // 2  # initial_state: the forward layer's states, then the backward one's
        mask = None if states else c.mask  # a call with initial_state ignores the mask, as Keras 3.15
        runs = []
        for layer, init in ((a["layer"], states[:half]), (a["backward_layer"], states[half:])):
            sub = inner_call(c, layer, [x, *init], c.in_types[:1] + c.in_types[1:1 + len(init)],
                             [mask] + [None] * len(init), len(init))
            runs.append(EMITTERS[layer.type].sequence(sub))
        (y, *f_states), (y_rev, *b_states) = runs
        if a["layer"].args["return_sequences"]:
            if mask is not None:
                m = c.op("Unsqueeze", [c.g.as_float(mask, c.hint), c.g.const([-1])])
                y, y_rev = c.op("Mul", [y, m]), c.op("Mul", [y_rev, c.g.reverse(m, 1, c.hint)])
            y_rev = c.g.reverse(y_rev, 1, c.hint)
        if a["merge_mode"] is None:
            c.op("Identity", [y], out=0)
            c.op("Identity", [y_rev], out=1)
            n = 2
        else:
            MERGE[a["merge_mode"]](c, y, y_rev, 0)
            n = 1
        if a["layer"].args["return_state"]:
            for i, s in enumerate(f_states + b_states):
                c.op("Identity", [s], out=n + i)

    def out_masks(self, c):
        n_seq = 2 if c.a["merge_mode"] is None else 1
        seq_mask = c.mask if c.a["layer"].args["return_sequences"] else None
        return [seq_mask] * n_seq + [None] * (len(c.outs) - n_seq)


@EMITTERS.register("TimeDistributed")
class TimeDistributed(Emitter):
    """The inner layer on (batch * steps, ...) at once, unfolded back to (batch, steps, ...);
    the inner layer sees no mask (the wrapper passes the steps' mask on)."""

    def emit(self, c: Call):
        defn, layer, x = LAYERS["TimeDistributed"], c.a["layer"], c.ins[0]
        in_types = defn.inner_inputs(c.a, c.in_types)
        folded_shape = c.op("Concat", [c.g.const([-1]), c.g.shape_slice(x, 2, None, c.hint)], axis=0)
        sub = inner_call(c, layer, [c.op("Reshape", [x, folded_shape])], in_types, [None])
        sub.out_types = LAYERS[layer.type].infer(layer.args, in_types)
        EMITTERS[layer.type].emit(sub)
        y = sub.outs[0]
        shape = c.op("Concat", [c.g.shape_slice(x, 0, 2, c.hint), c.g.shape_slice(y, 1, None, c.hint)], axis=0)
        c.op("Reshape", [y, shape], out=0)

    def out_masks(self, c):
        return [c.masks[0]]
