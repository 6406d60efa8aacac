"""Merge layers: add, subtract, multiply, average, maximum, minimum, concatenate
(keras/src/layers/merging)."""

from __future__ import annotations

import functools

import numpy as np

from spec2net.tables import Table

from .base import Kernel, KernelCall

KERNELS = Table("NumPy kernel")


class _Elementwise(Kernel):
    op = None  # a binary ufunc folded over the inputs, left to right as Keras does

    def forward(self, c: KernelCall, xs):
        return [functools.reduce(self.op, xs)], None

    def out_masks(self, c, xs, masks, outs):
        # Keras's Merge.compute_mask: no mask if any input has none, else their OR
        if any(m is None for m in masks):
            return [None]
        return [functools.reduce(np.logical_or, masks)]


for _name, _op in (("Add", np.add), ("Subtract", np.subtract)):
    KERNELS.register(_name)(type(_name, (_Elementwise,), {"op": staticmethod(_op)}))


def _valid(m):
    """A Keras mask (no feature axis) as an element mask: (batch, steps) -> (batch, steps, 1)."""
    return None if m is None else m[..., None]


def pick_fold(xs, masks, left_wins):
    """Keras 3's Maximum/Minimum (base_merge._apply_merge_op_and_or_mask) folded left to right:
    a masked-out value never wins, and where both are masked out the running result passes.
    Returns (output, [where each step took its new input]); without masks, plain max/min."""
    out, valid, takes = xs[0], _valid(masks[0]), []
    for x, m in zip(xs[1:], masks[1:]):
        take = ~left_wins(out, x)
        if valid is not None:
            take = take | ~valid
        if m is not None:
            take = take & _valid(m)
        out = np.where(take, x, out)
        valid = None if valid is None or m is None else valid | _valid(m)
        takes.append(take)
    return out, takes


def masked_product(xs, masks):
    """Keras 3's Multiply: a masked-out value counts as 1; when every input has a mask, the
    product is 0 where all of them are masked out. Returns (output, factors, that OR or None)."""
    factors = [x if m is None else np.where(_valid(m), x, 1) for x, m in zip(xs, masks)]
    out = functools.reduce(np.multiply, factors)
    valid = None
    if all(m is not None for m in masks):
        valid = functools.reduce(np.logical_or, [_valid(m) for m in masks])
        out = np.where(valid, out, 0)
    return out, factors, valid


@KERNELS.register("Multiply")
class Multiply(_Elementwise):
    def forward(self, c: KernelCall, xs):
        return [masked_product(xs, c.masks)[0]], None


@KERNELS.register("Maximum")
class Maximum(_Elementwise):
    left_wins = staticmethod(np.greater_equal)  # TF's maximum keeps the left operand on ties

    def forward(self, c: KernelCall, xs):
        return [pick_fold(xs, c.masks, self.left_wins)[0]], None


@KERNELS.register("Minimum")
class Minimum(Maximum):
    left_wins = staticmethod(np.less_equal)


@KERNELS.register("Average")
class Average(_Elementwise):
    op = staticmethod(np.add)

    def forward(self, c: KernelCall, xs):
        return [functools.reduce(np.add, xs) / len(xs)], None


@KERNELS.register("Concatenate")
class Concatenate(Kernel):
    def forward(self, c: KernelCall, xs):
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
