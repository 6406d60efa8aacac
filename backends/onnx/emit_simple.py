"""RepeatVector, Permute, Masking and the activation layers ReLU, ELU, Softmax, PReLU."""

from __future__ import annotations

import numpy as np
from onnx import TensorProto

from spec2net.registry import LAYERS

from .activations import clip
from .emitter import EMITTERS, Call, Emitter

F32 = np.float32


@EMITTERS.register("RepeatVector")
class RepeatVector(Emitter):
    def emit(self, c: Call):
        x = c.op("Unsqueeze", [c.ins[0], c.g.const([1])])
        c.op("Tile", [x, c.g.const([1, c.a["n"], 1])], out=0)


@EMITTERS.register("Permute")
class Permute(Emitter):
    def emit(self, c: Call):
        c.op("Transpose", [c.ins[0]], out=0, perm=[0, *c.a["dims"]])


@EMITTERS.register("Masking")
class Masking(Emitter):
    """A step is kept where any feature differs from ``mask_value``; masked steps become 0."""

    def keep(self, c: Call) -> str:
        differs = c.op("Not", [c.op("Equal", [c.ins[0], c.g.const(c.a["mask_value"], F32)])])
        counts = c.op("ReduceMax", [c.op("Cast", [differs], to=TensorProto.FLOAT), c.g.const([-1])], keepdims=0)
        return c.op("Cast", [counts], to=TensorProto.BOOL)

    def emit(self, c: Call):
        c.scratch["kept"] = self.keep(c)
        kept = c.op("Unsqueeze", [c.scratch["kept"], c.g.const([-1])])
        c.op("Where", [kept, c.ins[0], c.g.const(0.0, F32)], out=0)

    def out_masks(self, c):
        return [c.scratch["kept"]]


@EMITTERS.register("ReLU")
class ReLU(Emitter):
    """Keras's activations.relu in its order of operations (backends/numpy/simple.py's relu)."""

    def emit(self, c: Call):
        x, a = c.ins[0], c.a
        if a["threshold"]:
            y = c.op("Where", [c.op("Greater", [x, c.g.const(a["threshold"], F32)]), x, c.g.const(0.0, F32)])
        else:
            y = c.op("Relu", [x])
        if a["max_value"] is not None:
            y = clip(c.g, y, c.hint, 0.0, a["max_value"])
        if a["negative_slope"]:
            below = c.op("Relu", [c.op("Sub", [c.g.const(a["threshold"], F32), x])])
            y = c.op("Sub", [y, c.op("Mul", [c.g.const(a["negative_slope"], F32), below])])
        c.op("Identity", [y], out=0)


@EMITTERS.register("ELU")
class ELU(Emitter):
    def emit(self, c: Call):
        c.op("Elu", [c.ins[0]], out=0, alpha=float(c.a["alpha"]))


@EMITTERS.register("Softmax")
class Softmax(Emitter):
    def emit(self, c: Call):
        axes = [i + 1 for i in LAYERS["Softmax"].axes(c.a, c.in_types[0])]
        x = c.ins[0]
        if len(axes) == 1:
            c.op("Softmax", [x], out=0, axis=axes[0])
            return
        # exp(x - max) / sum over several axes at once, as Keras computes it
        e = c.op("Exp", [c.op("Sub", [x, c.op("ReduceMax", [x, c.g.const(axes)], keepdims=1)])])
        c.op("Div", [e, c.op("ReduceSum", [e, c.g.const(axes)], keepdims=1)], out=0)

    def out_masks(self, c):
        return [None]


@EMITTERS.register("PReLU")
class PReLU(Emitter):
    def emit(self, c: Call):
        # alpha's shape is the input's with 1 on the shared axes: it broadcasts as it stands
        c.op("PRelu", [c.ins[0], c.w("alpha")], out=0)
