"""Activation derivatives: each takes the pre-activation ``z``, the output ``y``, the output's
gradient ``g`` and the activation's arguments from the IR, and returns d loss / d z."""

from __future__ import annotations

import math

import numpy as np

from spec2net import ir
from spec2net.tables import Table

from .. import activations as fwd
from ..activations import SELU_ALPHA, SELU_SCALE, erf

ACT_GRADS = Table("NumPy activation gradient")


def act_grad(ref: ir.Ref, z, y, g):
    """``g`` through the activation ``ref`` at pre-activation ``z`` with output ``y``."""
    return ACT_GRADS[ref.name](z, y, g, **ref.kwargs).astype(z.dtype, copy=False)


def _sig(z):
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-z))


@ACT_GRADS.register("linear")
def linear(z, y, g):
    return g


@ACT_GRADS.register("relu")
def relu(z, y, g):
    return g * (z > 0)


@ACT_GRADS.register("leaky_relu")
def leaky_relu(z, y, g, negative_slope):
    return np.where(z > 0, g, negative_slope * g)


@ACT_GRADS.register("sigmoid")
def sigmoid(z, y, g):
    return g * y * (1 - y)


@ACT_GRADS.register("tanh")
def tanh(z, y, g):
    return g * (1 - y * y)


@ACT_GRADS.register("softmax")
def softmax(z, y, g):
    return y * (g - (g * y).sum(-1, keepdims=True))


@ACT_GRADS.register("elu")
def elu(z, y, g):
    return np.where(z > 0, g, g * (y + 1))


@ACT_GRADS.register("selu")
def selu(z, y, g):
    return np.where(z > 0, SELU_SCALE * g, g * (y + SELU_SCALE * SELU_ALPHA))


@ACT_GRADS.register("gelu")
def gelu(z, y, g):
    cdf = 0.5 * (1 + erf(z / math.sqrt(2.0)).astype(z.dtype))
    return g * (cdf + z * np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi))


@ACT_GRADS.register("swish")
def swish(z, y, g):
    return g * (_sig(z) * (1 + z * (1 - _sig(z))))


@ACT_GRADS.register("softplus")
def softplus(z, y, g):
    return g * _sig(z)


@ACT_GRADS.register("softsign")
def softsign(z, y, g):
    return g / np.square(1 + np.abs(z))


@ACT_GRADS.register("hard_sigmoid")
def hard_sigmoid(z, y, g):
    return g * ((z > -3) & (z < 3)) / 6.0


@ACT_GRADS.register("exponential")
def exponential(z, y, g):
    return g * y


@ACT_GRADS.register("relu6")
def relu6(z, y, g):
    return g * ((z > 0) & (z < 6))  # tf.nn.relu6's gradient is 0 at both corners


@ACT_GRADS.register("mish")
def mish(z, y, g):
    t = np.tanh(fwd.softplus(z))
    return g * (t + z * (1 - t * t) * _sig(z))


@ACT_GRADS.register("log_softmax")
def log_softmax(z, y, g):
    return g - np.exp(y) * g.sum(-1, keepdims=True)


@ACT_GRADS.register("hard_silu")
def hard_silu(z, y, g):
    # x * relu6(x + 3) / 6: the product rule, relu6's gradient 0 at its corners
    return g * (np.clip(z + 3, 0, 6) / 6 + z * ((z > -3) & (z < 3)) / 6)


@ACT_GRADS.register("celu")
def celu(z, y, g, alpha):
    # the gradients of maximum(x, 0) and of minimum(x, 0) both pass at x == 0 (tf's x >= y, x <= y)
    return g * ((z >= 0) + (z <= 0) * np.exp(np.minimum(z, 0) / alpha))


@ACT_GRADS.register("log_sigmoid")
def log_sigmoid(z, y, g):
    return g * _sig(-z)


@ACT_GRADS.register("hard_tanh")
def hard_tanh(z, y, g):
    return g * ((z >= -1) & (z <= 1))  # tf.clip_by_value passes the gradient at its bounds
