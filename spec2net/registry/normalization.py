"""BatchNormalization and LayerNormalization."""

from __future__ import annotations

from .. import messages as M
from ..ir import TensorType
from .base import LayerDef, ShapeError, init_arg, norm_axis, one, param, reg_arg, register
from .types import Arg, Axis, Bool, Float

F = "float32"
_EPS = Float(0, lo_open=True, what="a positive number")


class _Norm(LayerDef):
    def axes(self, a, t: TensorType) -> tuple[int, ...]:
        axes = a["axis"] if isinstance(a["axis"], tuple) else (a["axis"],)
        out = tuple(norm_axis(ax, len(t.shape), self.name) for ax in axes)
        for i in out:
            if t.shape[i] is None:
                raise ShapeError(M.NEEDS_AXIS_SIZE, layer=self.name, axis=i + 1, shape=t)
        return out

    def infer(self, a, ins):
        t = one(ins, self.name)
        self.axes(a, t)
        return [TensorType(F, t.shape)]

    def params(self, a, ins):
        """gamma and beta, where ``scale`` and ``center`` ask for them."""
        shape = self.feature_shape(a, ins[0])
        out = []
        if a["scale"]:
            out.append(param("gamma", shape, a, "gamma_initializer", "gamma_regularizer"))
        if a["center"]:
            out.append(param("beta", shape, a, "beta_initializer", "beta_regularizer"))
        return out

    def feature_shape(self, a, t):
        """The parameters' shape. Keras sorts the axes as written before it reads their sizes
        (axis=[1, -1] on (4, 5) gives gamma (5, 4)); the values still follow the input's order,
        as Keras reshapes them to broadcast."""
        self.axes(a, t)  # the checks
        written = a["axis"] if isinstance(a["axis"], tuple) else (a["axis"],)
        return tuple(t.shape[norm_axis(ax, len(t.shape), self.name)] for ax in sorted(written))


@register
class BatchNormalization(_Norm):
    name, auto_name = "BatchNormalization", "batch_normalization"
    aliases = ("BatchNorm",)
    args = (Arg("axis", Axis(), -1), Arg("momentum", Float(0, 1), 0.99), Arg("epsilon", _EPS, 1e-3),
            Arg("center", Bool(), True), Arg("scale", Bool(), True),
            init_arg("beta_initializer", "zeros"), init_arg("gamma_initializer", "ones"),
            init_arg("moving_mean_initializer", "zeros"), init_arg("moving_variance_initializer", "ones"),
            reg_arg("beta_regularizer"), reg_arg("gamma_regularizer"))
    samples = (({}, [(F, (6,))]), ({"momentum": 0.9, "center": False}, [(F, (3, 4))]),
               ({"axis": 1, "scale": False}, [(F, (3, 4))]))

    def params(self, a, ins):
        shape = self.feature_shape(a, ins[0])
        # moving statistics are state, not trained: Keras counts them non-trainable
        return super().params(a, ins) + [
            param("moving_mean", shape, a, "moving_mean_initializer", trainable=False),
            param("moving_variance", shape, a, "moving_variance_initializer", trainable=False)]


@register
class LayerNormalization(_Norm):
    name, auto_name = "LayerNormalization", "layer_normalization"
    aliases = ("LayerNorm",)
    args = (Arg("axis", Axis(many=True), -1), Arg("epsilon", _EPS, 1e-3), Arg("center", Bool(), True),
            Arg("scale", Bool(), True), init_arg("beta_initializer", "zeros"),
            init_arg("gamma_initializer", "ones"), reg_arg("beta_regularizer"), reg_arg("gamma_regularizer"))
    samples = (({}, [(F, (6,))]), ({"center": False}, [(F, (3, 4))]), ({"axis": [1, 2]}, [(F, (3, 4))]),
               ({"axis": [-1, 1]}, [(F, (3, 4))]))  # Keras sorts the axes as written: gamma (4, 3)
