"""Bidirectional and TimeDistributed: layers whose argument is a layer (LANGUAGE.md section 2).

The wrapped layer is written inline; the builder turns it into an ``ir.Layer`` of its own (its
arguments filled, named as Keras names it) and stores it under the argument's name, so a
wrapper's ``args["layer"]`` is an ``ir.Layer``, never a tensor. The wrapper owns the inner
layers' parameters, keyed under their names: ``forward_lstm/kernel``, so that the weights
file says ``bidirectional/forward_lstm/kernel`` as Keras's variable path does (the recurrent
cell level left out).
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import messages as M
from ..ir import Layer, Param, TensorType
from .base import LAYERS, LayerDef, ShapeError, register
from .conv import Choice
from .types import REQUIRED, Arg, ArgError, ArgType, Optional

F = "float32"
MERGE_MODES = ("concat", "sum", "mul", "ave")


@dataclass(frozen=True)
class Inner:
    """A layer argument as the registry's samples write it: ``Inner("LSTM", (("units", 3),))``;
    its repr is the spec's syntax, ``LSTM(units=3)``. The checker never sees one."""

    type: str
    pairs: tuple = ()

    @property
    def args(self) -> dict:
        defn = LAYERS[self.type]
        return {**{a.name: a.default for a in defn.args if a.default is not REQUIRED}, **dict(self.pairs)}

    def __repr__(self):
        def spec(v):
            if isinstance(v, bool) or v is None:
                return {True: "true", False: "false", None: "none"}[v]
            return f'"{v}"' if isinstance(v, str) else repr(v)

        return f"{self.type}({', '.join(f'{k}={spec(v)}' for k, v in self.pairs)})"


class LayerArg(ArgType):
    """A layer written inline, ``LSTM(8)``: the builder's LayerValue (it takes it over)."""

    def __init__(self, expected: str):
        self.expected = expected

    def coerce(self, v, resolve):
        from ..values import LayerValue  # the builder's value types import the registry

        if not isinstance(v, LayerValue):
            raise ArgError("arg-type", self.expected)
        return v


def _inner(layer):
    """(its LayerDef, its filled arguments) of an ``ir.Layer`` or a sample's ``Inner``."""
    return LAYERS[layer.type], layer.args


def _prefixed(layer, ins) -> list[Param]:
    defn, a = _inner(layer)
    frozen = not getattr(layer, "trainable", True)  # LSTM(8, trainable=false) inside the wrapper
    return [Param(f"{layer.name}/{p.name}", p.shape, p.initializer, p.trainable and not frozen, p.regularizer)
            for p in defn.params(a, ins)]


class Wrapper(LayerDef):
    """What both wrappers share: the arguments holding layers, and their parameters."""

    layer_args: tuple = ("layer",)
    tolerance = 1e-4

    def inner(self, a) -> list:
        return [a[k] for k in self.layer_args if a.get(k) is not None]

    def check_inner(self, a) -> None:
        """Refuse inner layers this wrapper cannot take (a Problem, reported at the wrapper)."""

    def params(self, a, ins):
        return [p for layer in self.inner(a) for p in _prefixed(layer, self.inner_inputs(a, ins))]

    def inner_params(self, a, ins) -> list[tuple]:
        """(inner layer, its own params) for the builder to set on each ``ir.Layer``, as a first call sets a layer's."""
        return [(x, _inner(x)[0].params(x.args, self.inner_inputs(a, ins))) for x in self.inner(a)]

    def inner_inputs(self, a, ins):
        return ins

    def step_elements(self, a, ins):
        return sum(_inner(x)[0].step_elements(_inner(x)[1], self.inner_inputs(a, ins)) for x in self.inner(a))


@register
class Bidirectional(Wrapper):
    """The inner recurrent layer forward, a copy of it (or ``backward_layer``) with go_backwards
    backward, the backward sequence flipped back into time order, then merged."""

    name, auto_name = "Bidirectional", "bidirectional"
    args = (Arg("layer", LayerArg("a recurrent layer written inline, like LSTM(8)")),
            Arg("merge_mode", Optional(Choice(*MERGE_MODES)), "concat"),
            Arg("backward_layer", Optional(LayerArg("a recurrent layer written inline, like LSTM(8, "
                                                    "go_backwards=true)")), None))
    layer_args = ("layer", "backward_layer")
    call_args = ("initial_state",)
    mask = "bidirectional"  # its own out_masked: the returned sequence(s) keep the mask
    samples = tuple(
        ({"layer": Inner(t, (("units", 3), *extra)), **merge}, [(F, shape)])
        for t, extra, merge, shape in (
            ("LSTM", (), {}, (5, 2)),
            ("LSTM", (("return_sequences", True),), {"merge_mode": "sum"}, (4, 3)),
            ("GRU", (("return_sequences", True), ("return_state", True)), {"merge_mode": "mul"}, (4, 2)),
            ("SimpleRNN", (("return_sequences", True),), {"merge_mode": "ave"}, (None, 2)),
            ("LSTM", (("return_state", True),), {"merge_mode": None}, (3, 2)),
            ("GRU", (("reset_after", False),), {"merge_mode": "concat"}, (4, 1)),
        ))

    def adopt(self, a, name):
        fwd = a["layer"]
        for layer in (fwd, a["backward_layer"] or fwd):
            if not LAYERS[layer.type].call_args:
                raise ShapeError(M.WRAPS_RECURRENT, layer=layer.type)
        stem = fwd.name.removeprefix("forward_")
        # Keras rebuilds the layer from its config as forward_<name>, and without a backward_layer
        # a second copy, go_backwards set, as backward_<name>
        a = {**a, "layer": Layer(fwd.type, "forward_" + stem, fwd.args, fwd.span, fwd.trainable)}
        if a["backward_layer"] is None:
            if fwd.args["go_backwards"]:
                raise ShapeError(M.FORWARD_GOES_BACKWARDS)
            a["backward_layer"] = Layer(fwd.type, "backward_" + fwd.name.removeprefix("backward_"),
                                        {**fwd.args, "go_backwards": True}, fwd.span, fwd.trainable)
        self.check_inner(a)
        return a

    def check_inner(self, a):
        fwd, bwd = a["layer"], a["backward_layer"]
        if fwd.args["go_backwards"] == bwd.args["go_backwards"]:
            raise ShapeError(M.BACKWARD_DIRECTION, value=str(bwd.args["go_backwards"]).lower())
        for key in ("return_sequences", "return_state"):
            if fwd.args[key] != bwd.args[key]:
                raise ShapeError(M.BACKWARD_DIFFERS, arg=key)
        if a["merge_mode"] in ("sum", "mul", "ave") and fwd.args["units"] != bwd.args["units"]:
            raise ShapeError(M.BACKWARD_UNITS, mode=a["merge_mode"], fwd=fwd.args["units"], bwd=bwd.args["units"])

    def inner(self, a):
        # a sample writes no backward layer: the forward layer's arguments serve for both
        return [a["layer"], a["backward_layer"] if a.get("backward_layer") is not None else a["layer"]]

    def halves(self, a) -> list[tuple]:
        return [_inner(x) for x in self.inner(a)]

    def n_outputs(self, a):
        (fd, fa), (bd, ba) = self.halves(a)
        n = 2 if a["merge_mode"] is None else 1
        if fa["return_state"]:
            n += fd.n_outputs(fa) - 1 + bd.n_outputs(ba) - 1
        return n

    def infer(self, a, ins):
        (fd, fa), (bd, ba) = self.halves(a)
        f_outs, b_outs = fd.infer(fa, ins), bd.infer(ba, ins)
        y, y_rev = f_outs[0], b_outs[0]
        mode = a["merge_mode"]
        if mode is None:
            merged = [y, y_rev]
        elif mode == "concat":
            merged = [TensorType(F, (*y.shape[:-1], y.shape[-1] + y_rev.shape[-1]))]
        else:
            merged = [y]
        return merged + (f_outs[1:] + b_outs[1:] if fa["return_state"] else [])

    def state_types(self, a):
        return [(f"{half} {n}", t) for half, (d, x) in zip(("forward", "backward"), self.halves(a))
                for n, t in d.state_types(x)]

    def out_masked(self, a, in_masked):
        seq = a["layer"].args["return_sequences"] and any(in_masked)
        n_seq = 2 if a["merge_mode"] is None else 1
        return [seq] * n_seq + [False] * (self.n_outputs(a) - n_seq)


@register
class TimeDistributed(Wrapper):
    """The inner layer on every step: the steps folded into the batch, then unfolded."""

    name, auto_name = "TimeDistributed", "time_distributed"
    args = (Arg("layer", LayerArg("a layer written inline, like Dense(8)")),)
    samples = tuple(({"layer": Inner(t, pairs)}, [(F, shape)]) for t, pairs, shape in (
        ("Dense", (("units", 3), ("activation", "relu")), (4, 2)),
        ("Dense", (("units", 2),), (None, 3, 2)),
        ("Conv1D", (("filters", 2), ("kernel_size", 2)), (3, 5, 2)),
        ("LayerNormalization", (), (4, 3)),
        ("Flatten", (), (3, 2, 2)),
    )) + (({"layer": Inner("Embedding", (("input_dim", 10), ("output_dim", 3)))}, [("int32", (4, 2))]),)

    def adopt(self, a, name):
        self.check_inner(a)
        return a

    def check_inner(self, a):
        defn, la = _inner(a["layer"])
        if defn.merge or defn.call_args and la.get("return_state") or isinstance(defn, Wrapper):
            raise ShapeError(M.WRAPS_PER_STEP, layer=defn.name)
        if defn.name == "BatchNormalization":
            # Keras calls the layer once per step: per-step batch statistics, T updates of the moving ones
            raise ShapeError(M.TIME_DISTRIBUTED_BN)

    def takes_ints(self, a):
        return _inner(a["layer"])[0].takes_ints(a["layer"].args)  # TimeDistributed(Embedding(...))

    def inner_inputs(self, a, ins):
        t = ins[0]
        if len(t.shape) < 2:
            raise ShapeError(M.NEEDS_STEPS, layer="TimeDistributed", shape=t)
        return [TensorType(t.dtype, t.shape[1:])]

    def infer(self, a, ins):
        defn, la = _inner(a["layer"])
        (out,) = defn.infer(la, self.inner_inputs(a, ins))
        return [TensorType(out.dtype, (ins[0].shape[0], *out.shape))]

    def check_masked(self, a, ins, in_masked):
        # Keras passes a (batch, steps) mask through unchanged even where each step holds more
        # than one axis, which later layers then misread: refused
        if any(in_masked) and len(ins[0].shape) >= 3:
            raise ShapeError(M.TIME_DISTRIBUTED_MASK, shape=ins[0])
        if any(in_masked):
            # Keras hands each step's mask to a layer whose call takes one: Softmax refuses it here
            defn, la = _inner(a["layer"])
            defn.check_masked(la, self.inner_inputs(a, ins), [True])
            defn.out_masked(la, [True])

    def out_masked(self, a, in_masked):
        return [any(in_masked)]
