"""Gradients of RepeatVector, Permute, Masking, SpatialDropout1D, ReLU, ELU, Softmax, PReLU."""

from __future__ import annotations

import numpy as np

from spec2net.tables import Table

from ..simple import softmax_axes
from .base import unbroadcast
from .core import PRE_ACTIVATION

GRADS = Table("NumPy gradient")


@GRADS.register("RepeatVector")
def repeat_vector(c, xs, outs, cache, gys):
    return [gys[0].sum(axis=1)], {}


@GRADS.register("Permute")
def permute(c, xs, outs, cache, gys):
    return [gys[0].transpose(np.argsort((0, *c.a["dims"])))], {}


@GRADS.register("Masking")
def masking(c, xs, outs, cache, gys):
    return [gys[0] * cache[..., None]], {}


@GRADS.register("SpatialDropout1D")
def spatial_dropout(c, xs, outs, cache, gys):
    return [gys[0] if cache is None else gys[0] * cache], {}


@GRADS.register("ReLU")
def relu(c, xs, outs, cache, gys):
    x, g, a = cache, gys[0], c.a
    # TensorFlow's relu/where pass the gradient where x > threshold (0 at the threshold itself),
    # its clip where 0 <= y <= max_value
    through = x > a["threshold"]
    if a["max_value"] is not None:
        through &= x <= a["max_value"]
    gx = g * through
    if a["negative_slope"]:
        gx = gx + a["negative_slope"] * g * (x < a["threshold"])
    return [gx], {}


@GRADS.register("ELU")
def elu(c, xs, outs, cache, gys):
    x, g = cache, gys[0]
    # below 0, d/dx alpha * expm1(x) = alpha * exp(x) = y + alpha
    return [np.where(x > 0, g, g * (outs[0] + c.a["alpha"]))], {}


PRE_ACTIVATION.add(lambda cache: cache, "Softmax")  # its cache is x


@GRADS.register("Softmax")
def softmax(c, xs, outs, cache, gys):
    y, g = outs[0], gys[0]
    gx = None if g is None else y * (g - (g * y).sum(axis=softmax_axes(c, y), keepdims=True))
    if gys.logits is not None:  # a cross-entropy read the logits (the registry's output_activation)
        gx = gys.logits if gx is None else gx + gys.logits
    return [gx], {}


@GRADS.register("PReLU")
def prelu(c, xs, outs, cache, gys):
    x, g, alpha = cache, gys[0], c.w["alpha"]
    neg = np.maximum(-x, 0)
    gx = np.where(x > 0, g, 0) + np.where(x < 0, alpha * g, 0)
    return [gx], {"alpha": unbroadcast(-g * neg, alpha.shape)}
