"""Merge layers: add, subtract, multiply, average, maximum, minimum, concatenate
(keras/src/layers/merging)."""

from __future__ import annotations

import functools

import numpy as np

from .base import Call, Kernel, kernel


class _Elementwise(Kernel):
    op = None  # a binary ufunc folded over the inputs, left to right as Keras does

    def forward(self, c: Call, xs):
        return [functools.reduce(self.op, xs)], None

    def out_masks(self, c, xs, masks, outs):
        # Keras's Merge.compute_mask: no mask if any input has none, else their OR
        if any(m is None for m in masks):
            return [None]
        return [functools.reduce(np.logical_or, masks)]


for _name, _op in (("Add", np.add), ("Subtract", np.subtract), ("Multiply", np.multiply),
                   ("Maximum", np.maximum), ("Minimum", np.minimum)):
    kernel(_name)(type(_name, (_Elementwise,), {"op": staticmethod(_op)}))


@kernel("Average")
class Average(_Elementwise):
    op = staticmethod(np.add)

    def forward(self, c: Call, xs):
        return [functools.reduce(np.add, xs) / len(xs)], None


@kernel("Concatenate")
class Concatenate(Kernel):
    def forward(self, c: Call, xs):
        return [np.concatenate(xs, axis=c.a["axis"])], None

    def out_masks(self, c, xs, masks, outs):
        # Keras's Concatenate.compute_mask: masks broadcast to the inputs (all-true where an
        # input has none), concatenated along the axis, then any() over the last axis
        if all(m is None for m in masks):
            return [None]
        full = [np.ones(x.shape, bool) if m is None else np.broadcast_to(m[..., None] if m.ndim < x.ndim else m,
                                                                           x.shape)
                for x, m in zip(xs, masks)]
        return [np.concatenate(full, axis=c.a["axis"]).any(axis=-1)]
