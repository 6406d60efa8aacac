"""SimpleRNN, LSTM and GRU.

The parameters always live in torch's nn.RNN/nn.LSTM/nn.GRU (``batch_first``),
so one weights table serves both paths:
- fused: the torch module runs the whole sequence, wherever Keras's math is
  what it computes (tanh/sigmoid, GRU reset_after, no recurrent dropout, no mask);
- step loop (the runtime's ``rnn_loop``): a masked input (Keras holds the states over masked
  steps and repeats the previous output, which packed sequences cannot express
  for arbitrary masks), other activations, GRU reset_after=false, recurrent dropout.
Keras has one bias where torch has two (LSTM, SimpleRNN, GRU reset_after=false):
torch's ``bias_hh_l0`` stays zero and frozen. A call with ``initial_state`` (the node's inputs
after the first) starts from those states on either path and, as Keras 3.15, ignores the mask.
"""

from __future__ import annotations

from spec2net.codegen import py_literal

from .emitter import EMITTERS, Emitter, Weight
from .functions import activation_callable


class Recurrent(Emitter):
    torch_module = ""
    states = 1  # h; an LSTM has h and c

    def fused(self, layer, masked: bool) -> bool:
        a = layer.args
        return (not masked and a["recurrent_dropout"] == 0 and a["activation"].name == "tanh"
                and a.get("recurrent_activation", a["activation"]).name == "sigmoid")

    def one_bias(self, layer) -> bool:
        return layer.args["use_bias"]

    def module(self, layer, ins, bidirectional=False):
        a = layer.args
        bias = "" if a["use_bias"] else ", bias=False"  # torch's default is a bias
        both = ", bidirectional=True" if bidirectional else ""  # Bidirectional's two halves in one module
        return f"{self.torch_module}({ins[0].shape[-1]}, {a['units']}{bias}, batch_first=True{both})"

    def setup(self, layer, mod):
        if not self.one_bias(layer):
            return []
        return [f"rt.single_bias({mod})"]

    def weights(self, layer):
        out = [Weight("kernel", ("weight_ih_l0",), "transpose"),
               Weight("recurrent_kernel", ("weight_hh_l0",), "transpose")]
        return out + ([Weight("bias", ("bias_ih_l0",), "copy")] if layer.args["use_bias"] else [])

    def out_mask(self, c, index):
        return c.mask if index == 0 and c.a["return_sequences"] else None

    def forward(self, c):
        a = c.a
        x, init = c.ins[0], c.ins[1:]
        if a["go_backwards"]:
            x = f"{x}.flip(1)"
        if 0 < a["dropout"] < 1:
            x = f"rt.sequence_dropout({x}, {py_literal(a['dropout'])}, {c.training})"
        mask = None if init else c.mask
        fused = self.fused(c.layer, mask is not None)
        return self.fused_lines(c, x, c.outs, init) if fused else self.loop_lines(c, x, c.outs, init, mask)

    def fused_lines(self, c, x, names, init=()):
        out, states = names[0], names[1:]
        # torch's states have a leading axis per layer and direction
        h0 = [f"{s}.unsqueeze(0)" for s in init]
        call = f"{c.mod}({x}, {h0[0] if len(h0) == 1 else '(' + ', '.join(h0) + ')'})" if init else f"{c.mod}({x})"
        if not c.a["return_state"]:
            # torch returns every step's output; Keras's last output is the last of them
            return [f"{out} = {call}[0]" + ("" if c.a["return_sequences"] else "[:, -1]")]
        seq = c.temp("seq") if c.a["return_sequences"] else "_"
        st = states[0] if len(states) == 1 else f"({', '.join(states)})"
        lines = [f"{seq}, {st} = {call}",
                 f"{', '.join(states)} = {', '.join(s + '[0]' for s in states)}  # drop torch's layer axis"]
        if not c.used or c.used[0]:
            lines.append(f"{out} = {seq if c.a['return_sequences'] else states[0]}")
        else:  # nothing reads the output (an encoder's): it stays in `seq` or h, not a dead local (F841)
            c.outs[0] = seq if c.a["return_sequences"] else states[0]
        return lines

    def loop_lines(self, c, x, names, init=(), mask=None):
        a, out, m = c.a, names[0], c.mod
        bias = f"{m}.bias_ih_l0" if a["use_bias"] else "None"
        xs, h0, step = c.temp("x"), c.temp("h0"), c.temp("step")
        rdrop = "None"
        if 0 < a["recurrent_dropout"] < 1:
            rdrop = f"rt.dropout_mask({h0}, {py_literal(a['recurrent_dropout'])}, {c.training})"
        if a["go_backwards"] and mask:
            mask = f"{mask}.flip(1)"
        mask = mask or "None"
        states = ", ".join(init or [h0] * self.states) + ("," if self.states == 1 else "")
        bound = ", ".join(names[1:]) + ("," if self.states == 1 else "") if c.a["return_state"] else None
        call = f"rt.rnn_loop({step}, {xs}, {mask}, ({states}), {a['return_sequences']})"
        # every step's input projection at once, then Keras's loop
        return [f"{xs} = {c.F('linear')}({x}, {m}.weight_ih_l0, {bias})",
                f"{h0} = {xs}.new_zeros({xs}.shape[0], {a['units']})",
                f"{step} = {self.step_call(c, rdrop)}",
                f"{out}, ({bound}) = {call}" if bound else f"{out}, _ = {call}"]

    def step_call(self, c, rdrop):
        raise NotImplementedError


def _acts(c):
    a = c.a
    return ", ".join(activation_callable(a[k], c.imports) for k in ("activation", "recurrent_activation"))


@EMITTERS.register("LSTM")
class LSTM(Recurrent):
    torch_module, states = "nn.LSTM", 2

    def step_call(self, c, rdrop):
        return f"rt.lstm_step({c.mod}.weight_hh_l0, {_acts(c)}, {rdrop})"


@EMITTERS.register("GRU")
class GRU(Recurrent):
    torch_module = "nn.GRU"

    def fused(self, layer, masked):
        return layer.args["reset_after"] and super().fused(layer, masked)

    def one_bias(self, layer):
        return layer.args["use_bias"] and not layer.args["reset_after"]

    def weights(self, layer):
        # torch orders the gates r z n, Keras z r h; reset_after's (2, 3u) bias is input and recurrent bias
        out = [Weight("kernel", ("weight_ih_l0",), "gru_kernel"),
               Weight("recurrent_kernel", ("weight_hh_l0",), "gru_kernel")]
        if not layer.args["use_bias"]:
            return out
        if layer.args["reset_after"]:
            return out + [Weight("bias", ("bias_ih_l0", "bias_hh_l0"), "gru_bias")]
        return out + [Weight("bias", ("bias_ih_l0",), "gru_gates")]

    def step_call(self, c, rdrop):
        b_hh = f"{c.mod}.bias_hh_l0" if c.a["use_bias"] and c.a["reset_after"] else "None"
        return f"rt.gru_step({c.mod}.weight_hh_l0, {b_hh}, {_acts(c)}, {c.a['reset_after']}, {rdrop})"


@EMITTERS.register("SimpleRNN")
class SimpleRNN(Recurrent):
    torch_module = "nn.RNN"

    def fused(self, layer, masked):
        a = layer.args
        return not masked and a["recurrent_dropout"] == 0 and a["activation"].name in ("tanh", "relu")

    def module(self, layer, ins, bidirectional=False):
        a = layer.args
        # the nonlinearity only matters on the fused path, which takes tanh (torch's default) or relu
        act = ', nonlinearity="relu"' if a["activation"].name == "relu" else ""
        bias = "" if a["use_bias"] else ", bias=False"
        both = ", bidirectional=True" if bidirectional else ""
        return f"nn.RNN({ins[0].shape[-1]}, {a['units']}{act}{bias}, batch_first=True{both})"

    def step_call(self, c, rdrop):
        act = activation_callable(c.a["activation"], c.imports)
        return f"rt.simple_rnn_step({c.mod}.weight_hh_l0, {act}, {rdrop})"
