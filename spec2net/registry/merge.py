"""Merge functions: concatenate, add, subtract, multiply, average, maximum, minimum.

Each is a Keras merge layer (``concatenate([a, b])`` makes a Concatenate
layer named ``concatenate``), applied at once to a list of tensors."""

from __future__ import annotations

from .. import messages as M
from ..ir import TensorType
from .base import LayerDef, ShapeError, norm_axis, register
from .types import Arg, Axis

F = "float32"


def _need(ins, layer, lo=2, hi=None):
    if len(ins) < lo or (hi is not None and len(ins) > hi):
        want = f"exactly {lo}" if hi == lo else f"at least {lo}"
        raise ShapeError(M.MERGE_COUNT, layer=layer, want=want, n=len(ins))


class _Merge(LayerDef):
    merge = True
    max_inputs = None

    def out_masked(self, a, in_masked):
        # Keras's Merge.compute_mask: no mask unless every input has one (then their OR)
        return [all(in_masked)]

    def infer(self, a, ins):
        _need(ins, self.name, 2, self.max_inputs)
        shape = ins[0].shape
        for t in ins[1:]:
            shape = _broadcast(shape, t.shape, self.name, ins)
        return [TensorType(F, shape)]


def _broadcast(s1, s2, layer, ins):
    """Keras's element-wise merge rule: equal dims, or one of them 1 or unknown."""
    if len(s1) != len(s2):
        raise ShapeError(M.MERGE_RANKS, layer=layer, shapes=_shapes(ins))
    out = []
    for i, j in zip(s1, s2):
        if i is None or j is None:
            out.append(None)
        elif i == 1 or j == 1 or i == j:
            out.append(max(i, j))
        else:
            raise ShapeError(M.MERGE_SHAPES, layer=layer, shapes=_shapes(ins))
    return tuple(out)


def _shapes(ins):
    return ", ".join(str(t) for t in ins)


def _merge(cls_name, auto, max_inputs=None):
    cls = type(cls_name, (_Merge,), {"name": cls_name, "auto_name": auto, "max_inputs": max_inputs,
                                     "samples": (({}, [(F, (4,)), (F, (4,))]), ({}, [(F, (2, 3)), (F, (2, 3))]))})
    return register(cls)


for _cls, _auto, _max in (("Add", "add", None), ("Subtract", "subtract", 2), ("Multiply", "multiply", None),
                          ("Average", "average", None), ("Maximum", "maximum", None), ("Minimum", "minimum", None)):
    _merge(_cls, _auto, _max)


@register
class Concatenate(LayerDef):
    name, auto_name = "Concatenate", "concatenate"
    merge = True
    args = (Arg("axis", Axis(), -1),)
    samples = (({}, [(F, (4,)), (F, (3,))]), ({"axis": 1}, [(F, (2, 3)), (F, (5, 3))]),
               ({}, [(F, (None, 3)), (F, (None, 2))]))

    def infer(self, a, ins):
        _need(ins, "Concatenate")
        rank = len(ins[0].shape)
        if any(len(t.shape) != rank for t in ins):
            raise ShapeError(M.MERGE_RANKS, layer="Concatenate", shapes=_shapes(ins))
        axis = norm_axis(a["axis"], rank, "Concatenate")
        shape = list(ins[0].shape)
        for t in ins[1:]:
            for i, (d1, d2) in enumerate(zip(shape, t.shape)):
                if i != axis and d1 is not None and d2 is not None and d1 != d2:
                    raise ShapeError(M.CONCAT_SIZES, axis=a["axis"], shapes=_shapes(ins))
                if i != axis and d1 is None:
                    shape[i] = d2
        sizes = [t.shape[axis] for t in ins]
        shape[axis] = None if None in sizes else sum(sizes)
        return [TensorType(F, tuple(shape))]
