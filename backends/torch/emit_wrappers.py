"""Bidirectional and TimeDistributed: the inner layers' own emitters, run on an inner node.

The wrapper's module holds the inner layers' modules: an ``nn.ModuleDict`` keyed ``forward_layer`` and
``backward_layer`` (Keras's attribute names; a module's ``forward`` is taken) for Bidirectional (each half its own ``nn.LSTM``/``nn.GRU``/``nn.RNN``, fused where
its emitter can be: the backward one reads the flipped sequence, as Keras's go_backwards copy
does), TimeDistributed's layer's own module. Their weights keep the inner emitters' conversions;
only the Keras keys (``forward_lstm/kernel``) and the module paths (``forward_layer.weight_ih_l0``) gain
a prefix.
"""

from __future__ import annotations

import dataclasses

from spec2net import ir
from spec2net.ir import TensorType
from spec2net.registry import LAYERS

from .emitter import EMITTERS, Application, Emitter, Weight

MERGE = {"concat": "torch.cat([{y}, {r}], -1)", "sum": "{y} + {r}", "ave": "({y} + {r}) / 2", "mul": "{y} * {r}"}


def inner_node(node: ir.Node, layer: ir.Layer, inputs: list) -> ir.Node:
    """An inner layer's application, as its emitter expects one (its outputs typed, never named)."""
    defn = LAYERS[layer.type]
    outs = defn.infer(layer.args, [inputs[0].type])
    inner = ir.Node(layer, inputs, [], node.span, initial_states=len(inputs) - 1)
    inner.outputs = [ir.Tensor(t, inner, i) for i, t in enumerate(outs)]
    return inner


def run_inner(c: Application, layer, key: str | None, node: ir.Node, ins: list, outs: list, masks: list):
    """The forward lines of ``layer`` on ``node``, its module ``c.mod[key]`` (or ``c.mod``)."""
    mod = c.mod if key is None else f'{c.mod}["{key}"]'
    sub = dataclasses.replace(c, node=node, mod=mod, ins=ins, outs=outs, in_masks=masks, keep_logits=False,
                              temp=lambda suffix: c.temp(f"{(key or 'step').removesuffix('_layer')}_{suffix}"))
    return EMITTERS[layer.type].forward(sub)


def _prefixed(layer: ir.Layer, key: str | None) -> list[Weight]:
    return [Weight(f"{layer.name}/{w.param}", tuple(t if key is None else f"{key}.{t}" for t in w.tensors),
                   w.conversion) for w in EMITTERS[layer.type].weights(layer)]


class Wrapper(Emitter):
    def parts(self, layer) -> list[tuple]:
        """(module key or None, inner layer) of each inner layer."""
        raise NotImplementedError

    def module(self, layer, ins):
        made = {key: EMITTERS[inner.type].module(inner, self.inner_types(ins)) for key, inner in self.parts(layer)}
        if list(made) == [None]:
            return made[None]
        return "nn.ModuleDict({" + ", ".join(f'"{k}": {m}' for k, m in made.items()) + "})"

    def inner_types(self, ins):
        return ins

    def setup(self, layer, mod):
        return [line for key, inner in self.parts(layer)
                for line in EMITTERS[inner.type].setup(inner, mod if key is None else f'{mod}["{key}"]')]

    def weights(self, layer):
        return [w for key, inner in self.parts(layer) for w in _prefixed(inner, key)]

    def initial(self, layer, param):
        stem, name = param.name.split("/", 1)
        inner = next(x for _, x in self.parts(layer) if x.name == stem)
        return EMITTERS[inner.type].initial(inner, dataclasses.replace(param, name=name))


def fused_pair(layer: ir.Layer) -> bool:
    """Whether one ``nn.LSTM``/``nn.GRU``/``nn.RNN(bidirectional=True)`` computes both halves: the
    backward layer is the forward one run backwards, on the fused path (no masked call, Keras's
    activations), and without input dropout (Keras draws a mask per direction)."""
    fwd, bwd = layer.args["layer"], layer.args["backward_layer"]
    masked = any(n.inputs[0].masked for n in layer.nodes)
    return (fwd.type == bwd.type and bwd.args == {**fwd.args, "go_backwards": True} and fwd.args["dropout"] == 0
            and EMITTERS[fwd.type].fused(fwd, masked))


@EMITTERS.register("Bidirectional")
class Bidirectional(Wrapper):
    def parts(self, layer):
        return [("forward_layer", layer.args["layer"]), ("backward_layer", layer.args["backward_layer"])]

    def module(self, layer, ins):
        if not fused_pair(layer):
            return super().module(layer, ins)
        fwd = layer.args["layer"]
        return EMITTERS[fwd.type].module(fwd, ins, bidirectional=True)

    def setup(self, layer, mod):
        if not fused_pair(layer):
            return super().setup(layer, mod)
        return EMITTERS[layer.args["layer"].type].setup(layer.args["layer"], mod)

    def weights(self, layer):
        if not fused_pair(layer):
            return super().weights(layer)
        # torch's reverse direction holds the backward layer: the same tensors, suffixed _reverse
        fwd, bwd = layer.args["layer"], layer.args["backward_layer"]
        back = [Weight(w.param, tuple(t + "_reverse" for t in w.tensors), w.conversion) for w in _prefixed(bwd, None)]
        return _prefixed(fwd, None) + back

    def forward(self, c):
        return self.fused_lines(c) if fused_pair(c.layer) else self.pair_lines(c)

    def fused_lines(self, c):
        a, fwd = c.a, c.a["layer"]
        u, n_states = fwd.args["units"], len(LAYERS[fwd.type].state_types(fwd.args))
        n_seq = 2 if a["merge_mode"] is None else 1
        init = c.ins[1:]
        seq, h_n, c_n = c.temp("both"), c.temp("h_n"), c.temp("c_n")
        whole = a["merge_mode"] == "concat" and fwd.args["return_sequences"]
        if whole:  # torch's output is Keras's concatenation, the backward half already in time order
            seq = c.outs[0]
        keep_seq, keep_h, keep_c = fwd.args["return_sequences"], fwd.args["return_state"] or not \
            fwd.args["return_sequences"], fwd.args["return_state"]
        final = h_n if keep_h else "_"
        if n_states == 2 and (keep_h or keep_c):
            final = f"({final}, {c_n if keep_c else '_'})"
        # torch stacks the directions' states on a leading axis: (forward, backward)
        h0 = [f"torch.stack([{init[i]}, {init[i + n_states]}])" for i in range(n_states)] if init else []
        start = "" if not h0 else ", " + (h0[0] if n_states == 1 else f"({', '.join(h0)})")
        lines = [f"{seq if keep_seq else '_'}, {final} = {c.mod}({c.ins[0]}{start})"]
        finals = [h_n] + ([c_n] if n_states == 2 else [])
        states = [f"{s}[{d}]" for d in (0, 1) for s in finals]  # forward h (, c), then backward
        if fwd.args["return_sequences"]:
            y, y_rev = f"{seq}[..., :{u}]", f"{seq}[..., {u}:]"  # torch's backward half is in time order
        else:
            y, y_rev = f"{h_n}[0]", f"{h_n}[1]"
        if n_seq == 2:
            lines += [f"{c.outs[0]} = {y}", f"{c.outs[1]} = {y_rev}"]
        elif not whole:
            lines.append(f"{c.outs[0]} = " + MERGE[a["merge_mode"]].format(y=y, r=y_rev))
        if fwd.args["return_state"]:
            lines.append(f"{', '.join(c.outs[n_seq:])} = {', '.join(states)}")
        return lines

    def pair_lines(self, c):
        a, node = c.a, c.node
        (_, fwd), (_, bwd) = self.parts(c.layer)
        states = node.inputs[1:]
        half = len(states) // 2
        seq = fwd.args["return_sequences"]
        # Keras 3.15 ignores the mask of a call with initial_state
        mask = None if states else c.mask
        n_seq = 2 if a["merge_mode"] is None else 1
        f_states, b_states = c.outs[n_seq:n_seq + len(c.outs[n_seq:]) // 2], c.outs[n_seq + len(c.outs[n_seq:]) // 2:]
        y, y_rev = (c.outs[0], c.outs[1]) if n_seq == 2 else (c.temp("forward"), c.temp("backward"))
        lines = []
        for key, layer, init, out, st in (("forward_layer", fwd, states[:half], y, f_states),
                                          ("backward_layer", bwd, states[half:], y_rev, b_states)):
            ins = [c.ins[0], *c.ins[1 + (half if key == "backward_layer" else 0):][:len(init)]]
            sub = inner_node(node, layer, [node.inputs[0], *init])
            lines += run_inner(c, layer, key, sub, ins, [out, *st], [mask] + [None] * len(init))
        if seq:
            if mask is not None:
                # the wrapper zeroes masked steps (zero_output_for_mask); the backward half ran reversed
                lines += [f"{y} = {y} * {mask}[..., None]", f"{y_rev} = {y_rev} * {mask}.flip(1)[..., None]"]
            lines.append(f"{y_rev} = {y_rev}.flip(1)  # back into time order")
        if n_seq == 1:
            lines.append(f"{c.outs[0]} = " + MERGE[a["merge_mode"]].format(y=y, r=y_rev))
        return lines

    def out_mask(self, c, index):
        n_seq = 2 if c.a["merge_mode"] is None else 1
        return c.mask if index < n_seq and c.a["layer"].args["return_sequences"] else None


@EMITTERS.register("TimeDistributed")
class TimeDistributed(Wrapper):
    def parts(self, layer):
        return [(None, layer.args["layer"])]

    def inner_types(self, ins):
        return [TensorType(ins[0].dtype, ins[0].shape[1:])]

    def forward(self, c):
        x, (_, layer) = c.ins[0], self.parts(c.layer)[0]
        t = c.node.inputs[0].type
        steps, y = c.temp("steps"), c.temp("y")
        sub = inner_node(c.node, layer, [ir.Tensor(TensorType(t.dtype, t.shape[1:]))])
        # the steps folded into the batch, the inner layer once, then unfolded
        lines = [f"{steps} = {x}.reshape(-1, *{x}.shape[2:])"]
        lines += run_inner(c, layer, None, sub, [steps], [y], [None])
        return lines + [f"{c.outs[0]} = {y}.reshape({x}.shape[0], {x}.shape[1], *{y}.shape[1:])"]
