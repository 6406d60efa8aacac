"""RepeatVector, Permute, Masking, SpatialDropout1D and the activation layers ReLU, ELU, Softmax, PReLU.

Keras 3's arguments, defaults and checks (keras/src/layers/reshaping, core/masking.py,
regularization/spatial_dropout.py, activations/); LANGUAGE.md section 7 has the mask rules.
"""

from __future__ import annotations

from .. import messages as M
from ..ir import TensorType
from .base import LayerDef, ShapeError, init_arg, norm_axis, one, param, reg_arg, register
from .core import Dropout
from .types import Arg, ArgError, ArgType, Axis, Float, Int, Optional

F = "float32"
_NON_NEGATIVE = Float(0, what="a number >= 0 (a ReLU layer takes no negative argument)")


class Permutation(ArgType):
    """Keras's Permute ``dims``: the per-sample axes 1..n, each once, in the new order."""

    expected = "a permutation of 1..n, the per-sample axes (the batch is axis 0 and stays first)"

    def coerce(self, v, resolve):
        dims = v if isinstance(v, (tuple, list)) else None
        if not dims or any(isinstance(d, bool) or not isinstance(d, int) for d in dims):
            raise ArgError("arg-type", self.expected)
        if sorted(dims) != list(range(1, len(dims) + 1)):
            raise ArgError("arg-range", self.expected)
        return tuple(dims)


class _Same(LayerDef):
    """An elementwise layer: the output has the input's shape, and the mask passes on."""

    def infer(self, a, ins):
        return [TensorType(F, one(ins, self.name).shape)]


@register
class RepeatVector(LayerDef):
    name, auto_name = "RepeatVector", "repeat_vector"
    mask = "drop"
    args = (Arg("n", Int(1)),)
    samples = (({"n": 3}, [(F, (4,))]), ({"n": 1}, [(F, (2,))]))

    def infer(self, a, ins):
        t = one(ins, "RepeatVector")
        if len(t.shape) != 1:  # Keras's InputSpec(ndim=2), the batch included
            raise ShapeError(M.NEEDS_VECTOR, layer="RepeatVector", shape=t)
        return [TensorType(F, (a["n"], t.shape[0]))]


@register
class Permute(LayerDef):
    name, auto_name = "Permute", "permute"
    mask = "drop"
    args = (Arg("dims", Permutation()),)
    samples = (({"dims": (2, 1)}, [(F, (3, 4))]), ({"dims": (3, 1, 2)}, [(F, (2, 3, 4))]),
               ({"dims": (2, 1)}, [(F, (None, 3))]))

    def infer(self, a, ins):
        t, dims = one(ins, "Permute"), a["dims"]
        if len(dims) != len(t.shape):
            raise ShapeError(M.PERMUTE_RANK, dims=dims, n=len(dims), shape=t, rank=len(t.shape))
        return [TensorType(F, tuple(t.shape[d - 1] for d in dims))]


@register
class Masking(_Same):
    name, auto_name = "Masking", "masking"
    mask = "make"  # a mask of its own, whatever the input carries
    args = (Arg("mask_value", Float(), 0.0),)
    samples = (({}, [(F, (5, 3))]), ({"mask_value": 0.5}, [(F, (None, 2))]))

    def infer(self, a, ins):
        t = one(ins, "Masking")
        # the mask covers every axis but the features; on a rank-1 input it would mask whole
        # samples, which no layer of the language reads: refused, as Embedding needs ids per step
        if len(t.shape) < 2:
            raise ShapeError(M.MASKING_RANK, shape=t)
        return [TensorType(F, t.shape)]

    def out_masked(self, a, in_masked):
        return [True]


@register
class SpatialDropout1D(_Same):
    name, auto_name = "SpatialDropout1D", "spatial_dropout1d"
    args = (Dropout.args[0], Arg("seed", Optional(Int(0)), None))
    dropout_args = ("rate",)
    samples = (({"rate": 0.5}, [(F, (4, 3))]), ({"rate": 0.0}, [(F, (None, 2))]))

    def infer(self, a, ins):
        t = one(ins, "SpatialDropout1D")
        if len(t.shape) != 2:  # Keras's InputSpec(ndim=3): one draw per sample and channel
            raise ShapeError(M.NEEDS_SEQUENCE, layer="SpatialDropout1D", shape=t)
        return [TensorType(F, t.shape)]


@register
class ReLU(_Same):
    name, auto_name = "ReLU", "re_lu"
    args = (Arg("max_value", Optional(_NON_NEGATIVE), None), Arg("negative_slope", _NON_NEGATIVE, 0.0),
            Arg("threshold", _NON_NEGATIVE, 0.0))
    samples = (({}, [(F, (6,))]), ({"max_value": 1.5, "negative_slope": 0.1, "threshold": 0.5}, [(F, (3, 4))]),
               ({"max_value": 6.0}, [(F, (5,))]), ({"negative_slope": 0.2}, [(F, (2, 3))]),
               ({"threshold": 0.3}, [(F, (4,))]))


@register
class ELU(_Same):
    name, auto_name = "ELU", "elu"
    args = (Arg("alpha", Float(), 1.0),)
    samples = (({}, [(F, (6,))]), ({"alpha": 0.5}, [(F, (3, 4))]))


@register
class Softmax(_Same):
    name, auto_name = "Softmax", "softmax"
    args = (Arg("axis", Axis(many=True), -1),)
    samples = (({}, [(F, (5,))]), ({"axis": 1}, [(F, (3, 4))]), ({"axis": [1, 2]}, [(F, (2, 3))]),
               ({"axis": -2}, [(F, (None, 3))]))

    def axes(self, a, t: TensorType) -> tuple[int, ...]:
        """The softmax's axes as indices into the per-sample shape (Keras counts the batch as 0)."""
        written = a["axis"] if isinstance(a["axis"], tuple) else (a["axis"],)
        out = tuple(norm_axis(ax, len(t.shape), "Softmax") for ax in written)
        for i, ax in enumerate(out):
            if ax in out[:i]:
                raise ShapeError(M.AXIS_TWICE, layer="Softmax", axis=written[i])
        return out

    def infer(self, a, ins):
        t = one(ins, "Softmax")
        self.axes(a, t)
        return [TensorType(F, t.shape)]

    def output_activation(self, a):
        # activations.softmax keeps the logits on its output; over several axes Keras computes
        # exp(x - logsumexp(x)) itself and keeps none
        one_axis = not isinstance(a["axis"], tuple) or len(a["axis"]) == 1
        return "softmax" if one_axis else None

    def out_masked(self, a, in_masked):
        # Keras's Softmax applies an input mask to its input by broadcasting from the right: a
        # sequence mask (batch, steps) against (batch, steps, features) fails or masks wrong values
        if any(in_masked):
            raise ShapeError(M.SOFTMAX_MASK)
        return [False]


@register
class PReLU(_Same):
    name, auto_name = "PReLU", "p_re_lu"
    args = (init_arg("alpha_initializer", "zeros"), reg_arg("alpha_regularizer"),
            Arg("shared_axes", Optional(Axis(many=True)), None))
    samples = (({}, [(F, (5,))]), ({"shared_axes": [1]}, [(F, (3, 2))]),
               ({"shared_axes": 2, "alpha_initializer": "ones"}, [(F, (2, 3))]))

    def alpha_shape(self, a, t: TensorType) -> tuple:
        """Keras's PReLU.build: the input's per-sample shape with each shared axis set to 1."""
        shared = a["shared_axes"]
        shared = () if shared is None else shared if isinstance(shared, tuple) else (shared,)
        for ax in shared:
            # Keras indexes param_shape[ax - 1]: 0 or a negative axis would pick a wrong one silently
            if not 1 <= ax <= len(t.shape):
                raise ShapeError(M.SHARED_AXIS, axis=ax, rank=len(t.shape))
        shape = tuple(1 if i + 1 in shared else d for i, d in enumerate(t.shape))
        for i, d in enumerate(shape):
            if d is None:
                raise ShapeError(M.NEEDS_AXIS_SIZE, layer="PReLU", axis=i + 1, shape=t)
        return shape

    def infer(self, a, ins):
        t = one(ins, "PReLU")
        self.alpha_shape(a, t)
        return [TensorType(F, t.shape)]

    def params(self, a, ins):
        return [param("alpha", self.alpha_shape(a, ins[0]), a, "alpha_initializer", "alpha_regularizer")]
