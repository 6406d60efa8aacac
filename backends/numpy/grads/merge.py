"""Gradients of the merge layers."""

from __future__ import annotations

import functools

import numpy as np

from spec2net.tables import Table

from ..merge import masked_product, pick_fold
from .base import unbroadcast

GRADS = Table("NumPy gradient")


def _each(xs, gs):
    return [unbroadcast(g, x.shape) for x, g in zip(xs, gs)]


@GRADS.register("Add")
def add(c, xs, outs, cache, gys):
    return _each(xs, [gys[0]] * len(xs)), {}


@GRADS.register("Subtract")
def subtract(c, xs, outs, cache, gys):
    return _each(xs, [gys[0], -gys[0]]), {}


@GRADS.register("Average")
def average(c, xs, outs, cache, gys):
    return _each(xs, [gys[0] / len(xs)] * len(xs)), {}


@GRADS.register("Multiply")
def multiply(c, xs, outs, cache, gys):
    _, factors, valid = masked_product(xs, c.masks)
    g = gys[0] if valid is None else np.where(valid, gys[0], 0)
    gs = []
    for i, m in enumerate(c.masks):
        gi = g * functools.reduce(np.multiply, [f for j, f in enumerate(factors) if j != i])
        gs.append(gi if m is None else np.where(m[..., None], gi, 0))  # a masked-out factor was a constant 1
    return _each(xs, gs), {}


def _fold_pick(left_wins):
    """Maximum/Minimum: each step's gradient goes to the operand it took (TF sends a tie's
    to the left one, and a masked-out value is never taken; see merge.pick_fold)."""

    def fn(c, xs, outs, cache, gys):
        _, takes = pick_fold(xs, c.masks, left_wins)
        g, gs = gys[0], [None] * len(xs)
        for i in range(len(xs) - 1, 0, -1):
            gs[i] = np.where(takes[i - 1], g, 0)
            g = np.where(takes[i - 1], 0, g)
        gs[0] = g
        return _each(xs, gs), {}

    return fn


GRADS.add(_fold_pick(np.greater_equal), "Maximum")
GRADS.add(_fold_pick(np.less_equal), "Minimum")


@GRADS.register("Concatenate")
def concatenate(c, xs, outs, cache, gys):
    axis = c.a["axis"] % xs[0].ndim
    cuts = np.cumsum([x.shape[axis] for x in xs])[:-1]
    return np.split(gys[0], cuts, axis=axis), {}
