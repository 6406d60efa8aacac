"""SimpleRNN, LSTM and GRU: ONNX's own RNN/LSTM/GRU op where it computes Keras's math, else a Scan.

ONNX's ops take one ``sequence_lens`` per row: a Keras mask may hold any step out (pre-, mid-
and post-padding), where Keras keeps the states and repeats the previous output. So a masked
call, and one whose activations ONNX's ops do not compute (``RNN_ACTIVATIONS``), runs a Scan
whose body is Keras's cell (keras/src/layers/rnn/*.py) with a ``Where`` on each step's mask,
as the NumPy interpreter's loop. Both paths run time-major over the input, reversed first for
``go_backwards`` (the returned sequence stays in processing order, as Keras's); a call with
``initial_state`` starts from those states and, as Keras 3.15, ignores the mask.
"""

from __future__ import annotations

import numpy as np
from onnx import TensorProto, helper

from .activations import RNN_ACTIVATIONS, activate
from .emitter import EMITTERS, Call, Emitter
from .graph import Graph


class Recurrent(Emitter):
    onnx_op, cell, states, gates = "", "", 1, 1
    act_keys = ("activation",)  # ONNX's activation list, in its order

    def emit(self, c: Call):
        for i, value in enumerate(self.sequence(c)[:len(c.outs)]):
            c.op("Identity", [value], out=i)

    def out_masks(self, c):
        return [c.mask if c.a["return_sequences"] else None] + [None] * (len(c.outs) - 1)

    def sequence(self, c: Call) -> list:
        """[output, *every state]: the output (batch, steps, units) or (batch, units)."""
        init = c.ins[1:]
        mask = None if init else c.mask
        xt = c.op("Transpose", [c.ins[0]], perm=[1, 0, 2])  # time-major, as both paths run
        if c.a["go_backwards"]:
            xt = c.g.reverse(xt, 0, c.hint)
        if mask is not None:
            mask = c.op("Transpose", [mask], perm=[1, 0])
            if c.a["go_backwards"]:
                mask = c.g.reverse(mask, 0, c.hint)
        native = mask is None and all(c.a[k].name in RNN_ACTIVATIONS for k in self.act_keys)
        seq, *states = self.native(c, xt, init) if native else self.scan(c, xt, mask, init)
        out = c.op("Transpose", [seq], perm=[1, 0, 2]) if c.a["return_sequences"] else states[0]
        return [out, *states]

    # -- ONNX's own op -------------------------------------------------------------------------
    def native(self, c: Call, xt: str, init: list) -> list:
        a = c.a
        ins = [xt, c.w("kernel", f"{self.cell}_W"), c.w("recurrent_kernel", f"{self.cell}_R"),
               c.w("bias", f"{self.cell}_B") if a["use_bias"] else "", ""]
        ins += [c.op("Unsqueeze", [s, c.g.const([0])]) for s in init]
        y, *states = c.op(self.onnx_op, ins, n_out=1 + self.states, hidden_size=a["units"],
                          activations=[RNN_ACTIVATIONS[a[k].name] for k in self.act_keys], **self.attrs(c))
        # ONNX's Y is (steps, directions, batch, units), its states (directions, batch, units)
        seq = c.op("Squeeze", [y, c.g.const([1])])
        return [seq] + [c.op("Squeeze", [s, c.g.const([0])]) for s in states]

    def attrs(self, c: Call) -> dict:
        return {}

    # -- a Scan over Keras's cell --------------------------------------------------------------
    def scan(self, c: Call, xt: str, mask, init: list) -> list:
        xw = c.op("MatMul", [xt, c.w("kernel")])  # every step's input projection at once
        if c.a["use_bias"]:
            xw = c.op("Add", [xw, self.input_bias(c)])
        if not init:
            shape = c.op("Concat", [c.g.shape_slice(c.ins[0], 0, 1, c.hint), c.g.const([c.a["units"]])], axis=0)
            zero = helper.make_tensor("zero", TensorProto.FLOAT, [1], [0.0])
            init = [c.op("ConstantOfShape", [shape], value=zero)] * self.states
        body = Graph(outer=c.g)
        hint = c.hint + "/cell"
        prev = [body.name(f"{hint}/{s}_prev") for s in ("h", "c")[:self.states]]
        step = [body.name(f"{hint}/xw_t")] + ([body.name(f"{hint}/mask_t")] if mask is not None else [])
        new = self.cell_step(c, body, hint, step[0], prev)
        if mask is not None:
            keep = body.op("Unsqueeze", [step[1], c.g.const([1])], hint)
            new = [body.op("Where", [keep, n, p], hint) for n, p in zip(new, prev)]
        out = body.op("Identity", [new[0]], hint)
        f32 = lambda n: helper.make_tensor_value_info(n, TensorProto.FLOAT, None)
        graph = helper.make_graph(
            body.nodes, hint, [f32(n) for n in prev + step[:1]]
            + [helper.make_tensor_value_info(n, TensorProto.BOOL, None) for n in step[1:]],
            [f32(n) for n in new + [out]])
        outs = c.op("Scan", [*init, xw, *([mask] if mask is not None else [])], n_out=self.states + 1,
                    body=graph, num_scan_inputs=len(step))
        return [outs[-1], *outs[:-1]]

    def input_bias(self, c: Call) -> str:
        return c.w("bias")

    def cell_step(self, c: Call, g: Graph, hint: str, xw: str, prev: list) -> list:
        raise NotImplementedError


def _act(c: Call, g: Graph, key: str, x: str, hint: str) -> str:
    return activate(g, c.a[key], x, hint)


def _split(g: Graph, x: str, sizes: list, hint: str) -> list:
    return g.op("Split", [x, g.const(sizes)], hint, n_out=len(sizes), axis=1)


@EMITTERS.register("SimpleRNN")
class SimpleRNN(Recurrent):
    onnx_op, cell = "RNN", "rnn"

    def cell_step(self, c, g, hint, xw, prev):
        z = g.op("Add", [xw, g.op("MatMul", [prev[0], c.w("recurrent_kernel")], hint)], hint)
        return [_act(c, g, "activation", z, hint)]


@EMITTERS.register("LSTM")
class LSTM(Recurrent):
    """Gates i f c o: ``c = f * c + i * g``, ``h = o * activation(c)``."""

    onnx_op, cell, states, gates = "LSTM", "lstm", 2, 4
    act_keys = ("recurrent_activation", "activation", "activation")  # ONNX's f, g, h

    def cell_step(self, c, g, hint, xw, prev):
        h, cs = prev
        u = c.a["units"]
        z = g.op("Add", [xw, g.op("MatMul", [h, c.w("recurrent_kernel")], hint)], hint)
        i, f, cc, o = _split(g, z, [u] * 4, hint)
        i, f, o = (_act(c, g, "recurrent_activation", v, hint) for v in (i, f, o))
        c_new = g.op("Add", [g.op("Mul", [f, cs], hint), g.op("Mul", [i, _act(c, g, "activation", cc, hint)], hint)],
                     hint)
        return [g.op("Mul", [_act(c, g, "activation", c_new, hint), o], hint), c_new]


@EMITTERS.register("GRU")
class GRU(Recurrent):
    """Gates z r h: ``h = z * h_prev + (1 - z) * hh``; reset_after is ONNX's linear_before_reset."""

    onnx_op, cell, gates = "GRU", "gru", 3
    act_keys = ("recurrent_activation", "activation")  # ONNX's f, g

    def attrs(self, c):
        return {"linear_before_reset": int(c.a["reset_after"])}

    def input_bias(self, c):
        return c.w("bias", "row", index=0) if c.a["reset_after"] else c.w("bias")

    def cell_step(self, c, g, hint, xw, prev):
        (h,), u, after = prev, c.a["units"], c.a["reset_after"]
        x_zr, x_h = _split(g, xw, [2 * u, u], hint)
        if after:
            inner = g.op("MatMul", [h, c.w("recurrent_kernel")], hint)
            if c.a["use_bias"]:
                inner = g.op("Add", [inner, c.w("bias", "row", index=1)], hint)
            i_zr, i_h = _split(g, inner, [2 * u, u], hint)
        else:
            i_zr = g.op("MatMul", [h, c.w("recurrent_kernel", "columns", lo=0, hi=2 * u)], hint)
        z, r = _split(g, _act(c, g, "recurrent_activation", g.op("Add", [x_zr, i_zr], hint), hint), [u, u], hint)
        if after:
            hh = g.op("Add", [x_h, g.op("Mul", [r, i_h], hint)], hint)
        else:
            rh = g.op("Mul", [r, h], hint)
            hh = g.op("Add", [x_h, g.op("MatMul", [rh, c.w("recurrent_kernel", "columns", lo=2 * u, hi=3 * u)],
                                         hint)], hint)
        hh = _act(c, g, "activation", hh, hint)
        one_minus = g.op("Sub", [g.const(1.0, np.float32), z], hint)
        return [g.op("Add", [g.op("Mul", [z, h], hint), g.op("Mul", [one_minus, hh], hint)], hint)]

