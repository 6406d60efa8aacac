"""The gradient table and activation derivatives."""

from __future__ import annotations

import math

import numpy as np

GRADS: dict = {}
# layer type -> its forward cache's pre-activation: the logits a loss may read (losses.py)
PRE_ACTIVATION: dict = {}


class Grads(list):
    """The gradients of a node's outputs (None where an output gets none), plus ``logits``."""

    logits = None


def grad(*types: str):
    """Register a gradient function: ``@grad("Dense") def dense(c, xs, outs, cache, gys): ...``."""

    def wrap(fn):
        for t in types:
            GRADS[t] = fn
        return fn

    return wrap


def get_grad(layer_type: str):
    try:
        return GRADS[layer_type]
    except KeyError:
        raise NotImplementedError(f"the NumPy trainer has no gradient for layer {layer_type!r}; "
                                  f"it has: {', '.join(sorted(GRADS))}") from None


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946
_erf = np.frompyfunc(math.erf, 1, 1)


def _sig(z):
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-z))


# d activation / d z applied to gy, from the pre-activation z and the output y
ACT_GRADS = {
    "linear": lambda z, y, g: g,
    "relu": lambda z, y, g: g * (z > 0),
    "leaky_relu": lambda z, y, g, negative_slope: np.where(z > 0, g, negative_slope * g),
    "sigmoid": lambda z, y, g: g * y * (1 - y),
    "tanh": lambda z, y, g: g * (1 - y * y),
    "softmax": lambda z, y, g: y * (g - (g * y).sum(-1, keepdims=True)),
    "elu": lambda z, y, g: np.where(z > 0, g, g * (y + 1)),
    "selu": lambda z, y, g: np.where(z > 0, _SELU_SCALE * g, g * (y + _SELU_SCALE * _SELU_ALPHA)),
    "gelu": lambda z, y, g: g * (0.5 * (1 + _erf(z / math.sqrt(2.0)).astype(z.dtype))
                                 + z * np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)),
    "swish": lambda z, y, g: g * (_sig(z) * (1 + z * (1 - _sig(z)))),
    "softplus": lambda z, y, g: g * _sig(z),
    "softsign": lambda z, y, g: g / np.square(1 + np.abs(z)),
    "hard_sigmoid": lambda z, y, g: g * ((z > -3) & (z < 3)) / 6.0,
    "exponential": lambda z, y, g: g * y,
}
ACT_GRADS["silu"] = ACT_GRADS["swish"]


def act_grad(ref, z, y, g):
    """``g`` through the activation ``ref`` (its arguments from the IR) at pre-activation ``z`` with output ``y``."""
    return ACT_GRADS[ref.name](z, y, g, **ref.kwargs).astype(z.dtype, copy=False)


def unbroadcast(g, shape):
    """Sum ``g`` down to ``shape`` (the inverse of NumPy broadcasting), batch axis included."""
    while g.ndim > len(shape):
        g = g.sum(0)
    axes = tuple(i for i, (a, b) in enumerate(zip(g.shape, shape)) if b == 1 and a != 1)
    return g.sum(axes, keepdims=True) if axes else g
