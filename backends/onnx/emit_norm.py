"""BatchNormalization (inference: the moving statistics) and LayerNormalization.

Both normalize in tf.nn.batch_normalization's order of operations, as the NumPy interpreter
does: ``inv = 1 / sqrt(var + eps) * gamma``, ``y = x * inv + (beta - mean * inv)``, with the
parameters reshaped (the weights module's ``broadcast``) over the normalized axes.
"""

from __future__ import annotations

import numpy as np

from spec2net.registry import LAYERS

from .emitter import EMITTERS, Call, Emitter


def _axes(c: Call) -> list:
    """The normalized axes of the whole tensor (the batch is 0), sorted."""
    return sorted(i + 1 for i in LAYERS[c.layer.type].axes(c.a, c.in_types[0]))


def _param(c: Call, name: str) -> str:
    shape = [1] * (len(c.in_types[0].shape) + 1)
    for ax in _axes(c):
        shape[ax] = c.in_types[0].shape[ax - 1]
    return c.w(name, "broadcast", shape=tuple(shape))


def normalize(c: Call, mean: str, var: str) -> None:
    inv = c.op("Reciprocal", [c.op("Sqrt", [c.op("Add", [var, c.g.const(c.a["epsilon"], np.float32)])])])
    if c.a["scale"]:
        inv = c.op("Mul", [inv, _param(c, "gamma")])
    shifted = c.op("Mul", [mean, inv])
    shift = c.op("Sub", [_param(c, "beta"), shifted]) if c.a["center"] else c.op("Neg", [shifted])
    c.op("Add", [c.op("Mul", [c.ins[0], inv]), shift], out=0)


@EMITTERS.register("BatchNormalization")
class BatchNormalization(Emitter):
    def emit(self, c: Call):
        normalize(c, _param(c, "moving_mean"), _param(c, "moving_variance"))


@EMITTERS.register("LayerNormalization")
class LayerNormalization(Emitter):
    def emit(self, c: Call):
        axes = c.g.const(_axes(c))
        mean = c.op("ReduceMean", [c.ins[0], axes], keepdims=1)
        var = c.op("ReduceMean", [c.op("Mul", [d := c.op("Sub", [c.ins[0], mean]), d]), axes], keepdims=1)
        normalize(c, mean, var)
