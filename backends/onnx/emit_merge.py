"""Merge layers: add, subtract, multiply, average, maximum, minimum, concatenate, with Keras 3's
mask rules (keras/src/layers/merging/base_merge.py), as backends/numpy/merge.py computes them."""

from __future__ import annotations

import numpy as np
from onnx import TensorProto

from .emitter import EMITTERS, Call, Emitter

F32 = np.float32


def _valid(c: Call, m):
    """A Keras mask (no feature axis) as an element mask: (batch, steps) -> (batch, steps, 1)."""
    return None if m is None else c.op("Unsqueeze", [m, c.g.const([-1])])


def _fold(c: Call, op_type: str, xs: list, out: int | None = None) -> str:
    y = xs[0]
    for i, x in enumerate(xs[1:]):
        y = c.op(op_type, [y, x], out=out if i == len(xs) - 2 else None)
    return y


class _Elementwise(Emitter):
    op_type = ""

    def emit(self, c: Call):
        _fold(c, self.op_type, c.ins, out=0)

    def out_masks(self, c):
        # Keras's Merge.compute_mask: no mask if any input has none, else their OR
        if any(m is None for m in c.masks):
            return [None]
        return [_fold(c, "Or", c.masks)]


for _name, _op in (("Add", "Add"), ("Subtract", "Sub")):
    EMITTERS.add(type(_name, (_Elementwise,), {"op_type": _op})(), _name)


@EMITTERS.register("Average")
class Average(_Elementwise):
    def emit(self, c: Call):
        c.op("Div", [_fold(c, "Add", c.ins), c.g.const(float(len(c.ins)), F32)], out=0)


@EMITTERS.register("Multiply")
class Multiply(_Elementwise):
    """A masked-out value counts as 1; with every input masked, 0 where all are masked out."""

    def emit(self, c: Call):
        valid = [_valid(c, m) for m in c.masks]
        factors = [x if v is None else c.op("Where", [v, x, c.g.const(1.0, F32)]) for x, v in zip(c.ins, valid)]
        if any(v is None for v in valid):
            _fold(c, "Mul", factors, out=0)
            return
        product = _fold(c, "Mul", factors)
        c.op("Where", [_fold(c, "Or", valid), product, c.g.const(0.0, F32)], out=0)


@EMITTERS.register("Maximum")
class Maximum(_Elementwise):
    """Folded left to right: a masked-out value never wins; where both are out the running one passes."""

    left_wins, op_type = "GreaterOrEqual", "Max"

    def emit(self, c: Call):
        if all(m is None for m in c.masks):
            _fold(c, self.op_type, c.ins, out=0)
            return
        out, valid = c.ins[0], _valid(c, c.masks[0])
        for i, (x, m) in enumerate(zip(c.ins[1:], c.masks[1:])):
            take = c.op("Not", [c.op(self.left_wins, [out, x])])
            if valid is not None:
                take = c.op("Or", [take, c.op("Not", [valid])])
            vm = _valid(c, m)
            if vm is not None:
                take = c.op("And", [take, vm])
            out = c.op("Where", [take, x, out], out=0 if i == len(c.ins) - 2 else None)
            valid = None if valid is None or vm is None else c.op("Or", [valid, vm])


@EMITTERS.register("Minimum")
class Minimum(Maximum):
    left_wins, op_type = "LessOrEqual", "Min"


@EMITTERS.register("Concatenate")
class Concatenate(Emitter):
    def emit(self, c: Call):
        c.op("Concat", c.ins, out=0, axis=c.a["axis"])

    def out_masks(self, c):
        # Keras's Concatenate.compute_mask: masks broadcast to the inputs (all-true where an
        # input has none), concatenated along the axis, then any() over the last axis
        if all(m is None for m in c.masks):
            return [None]
        full = []
        for x, m in zip(c.ins, c.masks):
            like = c.op("Shape", [x])
            if m is None:
                full.append(c.op("Expand", [c.g.const(True, bool), like]))
            else:
                full.append(c.op("Expand", [_valid(c, m), like]))
        joined = c.op("Cast", [c.op("Concat", full, axis=c.a["axis"])], to=TensorProto.FLOAT)
        return [c.op("Cast", [c.op("ReduceMax", [joined, c.g.const([-1])], keepdims=0)], to=TensorProto.BOOL)]
