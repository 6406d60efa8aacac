"""Keras 3's activations as ONNX nodes, one function each: ``fn(g, x, hint, **ref.kwargs) -> name``.

Keras's formulas (keras/src/activations/activations.py), written with the opset-18 ops: gelu is
the exact erf form, selu takes TensorFlow's constants, hard_sigmoid is Keras 3's relu6(x + 3) / 6.
``RNN_ACTIVATIONS`` says which of them ONNX's LSTM/GRU/RNN ops compute themselves; a recurrent
layer with any other runs as a Scan (emit_recurrent.py).
"""

from __future__ import annotations

import math

import numpy as np

from spec2net import ir
from spec2net.tables import Table

from .graph import Graph

ACTIVATIONS = Table("ONNX activation", instantiate=False)

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946

# Keras name -> the activation ONNX's LSTM/GRU/RNN ops compute themselves; only those without an
# alpha or beta (ONNX's rules for reading those lists differ between runtimes)
RNN_ACTIVATIONS = {"tanh": "Tanh", "sigmoid": "Sigmoid", "relu": "Relu", "softsign": "Softsign",
                   "softplus": "Softplus"}


def _unary(op_type: str, **attrs):
    def fn(g: Graph, x: str, hint: str) -> str:
        return g.op(op_type, [x], hint, **attrs)

    return fn


for _name, _op, _attrs in (("relu", "Relu", {}), ("sigmoid", "Sigmoid", {}), ("tanh", "Tanh", {}),
                           ("softmax", "Softmax", {"axis": -1}), ("elu", "Elu", {"alpha": 1.0}),
                           ("selu", "Selu", {"alpha": SELU_ALPHA, "gamma": SELU_SCALE}),
                           ("softplus", "Softplus", {}), ("softsign", "Softsign", {}),
                           ("hard_sigmoid", "HardSigmoid", {"alpha": 1 / 6, "beta": 0.5}),
                           ("exponential", "Exp", {}), ("mish", "Mish", {}),
                           ("log_softmax", "LogSoftmax", {"axis": -1})):
    ACTIVATIONS.add(_unary(_op, **_attrs), _name)


@ACTIVATIONS.register("linear")
def linear(g, x, hint):
    return x


@ACTIVATIONS.register("leaky_relu")
def leaky_relu(g, x, hint, *, negative_slope):
    return g.op("LeakyRelu", [x], hint, alpha=float(negative_slope))


@ACTIVATIONS.register("celu")
def celu(g, x, hint, *, alpha):
    return g.op("Celu", [x], hint, alpha=float(alpha))


def clip(g, x, hint, lo, hi):
    """Clip with float32 bounds (None: no bound on that side)."""
    bounds = [g.const(v, np.float32) if v is not None else "" for v in (lo, hi)]
    return g.op("Clip", [x, *bounds], hint)


@ACTIVATIONS.register("relu6")
def relu6(g, x, hint):
    return clip(g, x, hint, 0.0, 6.0)


@ACTIVATIONS.register("hard_tanh")
def hard_tanh(g, x, hint):
    return clip(g, x, hint, -1.0, 1.0)


@ACTIVATIONS.register("gelu")
def gelu(g, x, hint):
    # Keras 3's default is the exact form: 0.5 * x * (1 + erf(x / sqrt(2)))
    erf = g.op("Erf", [g.op("Div", [x, g.const(math.sqrt(2.0), np.float32)], hint)], hint)
    one_plus = g.op("Add", [erf, g.const(1.0, np.float32)], hint)
    return g.op("Mul", [g.op("Mul", [x, g.const(0.5, np.float32)], hint), one_plus], hint)


@ACTIVATIONS.register("swish")
def swish(g, x, hint):
    return g.op("Mul", [x, g.op("Sigmoid", [x], hint)], hint)


@ACTIVATIONS.register("hard_silu")
def hard_silu(g, x, hint):
    return g.op("Mul", [x, g.op("HardSigmoid", [x], hint, alpha=1 / 6, beta=0.5)], hint)


@ACTIVATIONS.register("log_sigmoid")
def log_sigmoid(g, x, hint):
    return g.op("Neg", [g.op("Softplus", [g.op("Neg", [x], hint)], hint)], hint)


def activate(g: Graph, ref: ir.Ref, x: str, hint: str, out: str | None = None) -> str:
    """``ref`` applied to ``x``; with ``out``, the result is bound to that name."""
    y = ACTIVATIONS[ref.name](g, x, hint, **ref.kwargs)
    if out is None or y == out:
        return y
    last = list(g.nodes[-1].output) if g.nodes else []
    if y == x or y not in last:  # linear, or a value made earlier: an Identity names it
        return g.op("Identity", [y], hint, [out])
    g.nodes[-1].output[last.index(y)] = out  # the last node's output, renamed
    return out
