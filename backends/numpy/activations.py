"""Keras 3's activations (keras/src/activations/activations.py), one function each.

Each takes ``(x, out=None)``: with ``out`` the result is written there (it may
be ``x`` itself, so recurrent loops work in place); the input's dtype is kept.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from spec2net import ir
from spec2net.tables import Table

# tf.nn.selu's constants
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
# NumPy has no erf; math.erf is libm's, exact to the last bit, so exact gelu agrees with Keras.
erf = np.frompyfunc(math.erf, 1, 1)


ACTIVATIONS = Table("NumPy activation")


def _put(res, out):
    if out is None:
        return res
    out[...] = res
    return out


@ACTIVATIONS.register("linear")
def linear(x, out=None):
    return x if out is None or out is x else _put(x, out)


@ACTIVATIONS.register("relu")
def relu(x, out=None):
    return np.maximum(x, 0, out=out)


@ACTIVATIONS.register("leaky_relu")
def leaky_relu(x, out=None, *, negative_slope):
    # the slope comes from the registry through the Ref (0.2; the LeakyReLU layer has its own);
    # where x <= 0 as tf.nn.leaky_relu, so a slope above 1 is right too
    return _put(np.where(x > 0, x, negative_slope * x), out)


@ACTIVATIONS.register("sigmoid")
def sigmoid(x, out=None):
    # 0.5 * tanh(x / 2) + 0.5: never overflows, and NumPy's tanh is a third faster than
    # exp + reciprocal in the recurrent loops (within 1e-7 of the exact value in float32)
    y = np.multiply(x, 0.5, out=out)
    np.tanh(y, out=y)
    y *= 0.5
    y += 0.5
    return y


@ACTIVATIONS.register("tanh")
def tanh(x, out=None):
    return np.tanh(x, out=out)


@ACTIVATIONS.register("softmax")
def softmax(x, out=None):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    e /= e.sum(axis=-1, keepdims=True)
    return _put(e, out)


@ACTIVATIONS.register("elu")
def elu(x, out=None):
    return _put(np.where(x > 0, x, np.expm1(np.minimum(x, 0))), out)


@ACTIVATIONS.register("selu")
def selu(x, out=None):
    return _put(SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0))), out)


@ACTIVATIONS.register("gelu")
def gelu(x, out=None):
    # Keras 3's default is the exact form (approximate=False)
    cdf = erf(x / math.sqrt(2.0)).astype(x.dtype)
    return _put(0.5 * x * (1.0 + cdf), out)


@ACTIVATIONS.register("swish")
def swish(x, out=None):
    return _put(x * sigmoid(x), out)


@ACTIVATIONS.register("softplus")
def softplus(x, out=None):
    # log(1 + exp(x)) without overflow
    return _put(np.log1p(np.exp(-np.abs(x))) + np.maximum(x, 0), out)


@ACTIVATIONS.register("softsign")
def softsign(x, out=None):
    return _put(x / (1.0 + np.abs(x)), out)


@ACTIVATIONS.register("hard_sigmoid")
def hard_sigmoid(x, out=None):
    # Keras 3: relu6(x + 3) / 6 (Keras 2 used 0.2 * x + 0.5)
    y = np.clip(x + 3.0, 0.0, 6.0)
    y /= 6.0
    return _put(y, out)


@ACTIVATIONS.register("exponential")
def exponential(x, out=None):
    return np.exp(x, out=out)


@ACTIVATIONS.register("relu6")
def relu6(x, out=None):
    return np.clip(x, 0, 6, out=out)


@ACTIVATIONS.register("mish")
def mish(x, out=None):
    return _put(x * np.tanh(softplus(x)), out)


@ACTIVATIONS.register("log_softmax")
def log_softmax(x, out=None):
    z = x - x.max(axis=-1, keepdims=True)
    return _put(z - np.log(np.exp(z).sum(axis=-1, keepdims=True)), out)


@ACTIVATIONS.register("hard_silu")
def hard_silu(x, out=None):
    return _put(x * hard_sigmoid(x), out)


@ACTIVATIONS.register("celu")
def celu(x, out=None, *, alpha):
    # tf: max(x, 0) + alpha * expm1(min(x, 0) / alpha)
    return _put(np.maximum(x, 0) + alpha * np.expm1(np.minimum(x, 0) / alpha), out)


@ACTIVATIONS.register("log_sigmoid")
def log_sigmoid(x, out=None):
    # -softplus(-x), without overflow
    return _put(-(np.log1p(np.exp(-np.abs(x))) + np.maximum(-x, 0)), out)


@ACTIVATIONS.register("hard_tanh")
def hard_tanh(x, out=None):
    return np.clip(x, -1.0, 1.0, out=out)


def activation(ref: ir.Ref):
    """The function of an activation reference, its arguments bound: ``activation(Ref("activation", "relu"))(x)``."""
    fn = ACTIVATIONS[ref.name]
    return functools.partial(fn, **ref.kwargs) if ref.args else fn
