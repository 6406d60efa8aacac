"""Gradients of the merge layers."""

from __future__ import annotations

import functools

import numpy as np

from .base import grad, unbroadcast


def _each(xs, gs):
    return [unbroadcast(g, x.shape) for x, g in zip(xs, gs)]


@grad("Add")
def add(c, xs, outs, cache, gys):
    return _each(xs, [gys[0]] * len(xs)), {}


@grad("Subtract")
def subtract(c, xs, outs, cache, gys):
    return _each(xs, [gys[0], -gys[0]]), {}


@grad("Average")
def average(c, xs, outs, cache, gys):
    return _each(xs, [gys[0] / len(xs)] * len(xs)), {}


@grad("Multiply")
def multiply(c, xs, outs, cache, gys):
    gs = []
    for i in range(len(xs)):
        others = [x for j, x in enumerate(xs) if j != i]
        gs.append(gys[0] * functools.reduce(np.multiply, others))
    return _each(xs, gs), {}


def _fold_pick(op, prefer_left):
    """Maximum/Minimum fold left to right; TF's binary maximum/minimum sends the gradient
    to the left operand on ties (x >= y for maximum, x <= y for minimum)."""

    def fn(c, xs, outs, cache, gys):
        acc = [xs[0]]
        for x in xs[1:]:
            acc.append(op(acc[-1], x))
        g, gs = gys[0], [None] * len(xs)
        for i in range(len(xs) - 1, 0, -1):
            left = prefer_left(acc[i - 1], xs[i])
            gs[i] = np.where(left, 0, g)
            g = np.where(left, g, 0)
        gs[0] = g
        return _each(xs, gs), {}

    return fn


grad("Maximum")(_fold_pick(np.maximum, np.greater_equal))
grad("Minimum")(_fold_pick(np.minimum, np.less_equal))


@grad("Concatenate")
def concatenate(c, xs, outs, cache, gys):
    axis = c.a["axis"] % xs[0].ndim
    cuts = np.cumsum([x.shape[axis] for x in xs])[:-1]
    return np.split(gys[0], cuts, axis=axis), {}
