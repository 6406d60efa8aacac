"""Dense, Embedding, Dropout, Activation, LeakyReLU, Flatten, Reshape."""

from __future__ import annotations

import math

from .. import messages as M
from ..ir import TensorType
from .base import LayerDef, ShapeError, act_arg, init_arg, known_last, one, param, reg_arg, register
from .types import Arg, Bool, Float, Func, Int, Optional, Shape

F = "float32"


@register
class Dense(LayerDef):
    name, auto_name = "Dense", "dense"
    args = (Arg("units", Int(1)), act_arg(), Arg("use_bias", Bool(), True),
            init_arg("kernel_initializer", "glorot_uniform"), init_arg("bias_initializer", "zeros"),
            reg_arg("kernel_regularizer"), reg_arg("bias_regularizer"), reg_arg("activity_regularizer"))
    samples = (({"units": 3}, [(F, (5,))]), ({"units": 4, "use_bias": False}, [(F, (2, 7))]),
               ({"units": 2, "activation": "softmax"}, [(F, (None, 6))]))

    def infer(self, a, ins):
        t = one(ins, "Dense")
        known_last(t, "Dense")
        return [TensorType(F, t.shape[:-1] + (a["units"],))]

    def params(self, a, ins):
        n_in = ins[0].shape[-1]
        out = [param("kernel", (n_in, a["units"]), a, "kernel_initializer", "kernel_regularizer")]
        if a["use_bias"]:
            out.append(param("bias", (a["units"],), a, "bias_initializer", "bias_regularizer"))
        return out


@register
class Embedding(LayerDef):
    name, auto_name = "Embedding", "embedding"
    int_inputs = True
    first_input_dtype = "int32"
    args = (Arg("input_dim", Int(1)), Arg("output_dim", Int(1)),
            init_arg("embeddings_initializer", "random_uniform"), reg_arg("embeddings_regularizer"),
            reg_arg("activity_regularizer"), Arg("mask_zero", Bool(), False))
    samples = (({"input_dim": 10, "output_dim": 3}, [("int32", (4,))]),
               ({"input_dim": 20, "output_dim": 5, "mask_zero": True}, [("int32", (None,))]))

    def infer(self, a, ins):
        t = one(ins, "Embedding")
        if t.is_float:
            raise ShapeError(M.NEEDS_INTEGER, layer="Embedding", dtype=t.dtype)
        return [TensorType(F, t.shape + (a["output_dim"],))]

    def params(self, a, ins):
        shape = (a["input_dim"], a["output_dim"])
        return [param("embeddings", shape, a, "embeddings_initializer", "embeddings_regularizer")]

    def out_masked(self, a, in_masked):
        return [a["mask_zero"]]


class _Same(LayerDef):
    """A layer whose output has its input's shape."""

    def infer(self, a, ins):
        t = one(ins, self.name)
        return [TensorType(F if not self.int_inputs else t.dtype, t.shape)]


@register
class Dropout(_Same):
    name, auto_name = "Dropout", "dropout"
    args = (Arg("rate", Float(0, 1, hi_open=True, what="a float value between 0 and 1")),
            Arg("noise_shape", Optional(Shape()), None), Arg("seed", Optional(Int(0)), None))
    dropout_args = ("rate",)
    samples = (({"rate": 0.5}, [(F, (8,))]), ({"rate": 0.0}, [(F, (3, 4))]))


@register
class Activation(_Same):
    name, auto_name = "Activation", "activation"
    args = (Arg("activation", Func("activation", none="linear")),)
    samples = (({"activation": "relu"}, [(F, (4,))]), ({"activation": "softmax"}, [(F, (2, 3))]))


@register
class LeakyReLU(_Same):
    name, auto_name = "LeakyReLU", "leaky_re_lu"
    args = (Arg("negative_slope", Float(0), 0.3, aliases=("alpha",)),)
    samples = (({}, [(F, (5,))]), ({"negative_slope": 0.1}, [(F, (2, 2))]))


@register
class Flatten(LayerDef):
    name, auto_name = "Flatten", "flatten"
    int_inputs = True
    mask = "drop"
    samples = (({}, [(F, (3, 4))]), ({}, [(F, (None, 2))]), ({}, [(F, (6,))]))

    def infer(self, a, ins):
        t = one(ins, "Flatten")
        size = None if any(d is None for d in t.shape) else math.prod(t.shape)
        return [TensorType(t.dtype, (size,))]


@register
class Reshape(LayerDef):
    name, auto_name = "Reshape", "reshape"
    int_inputs = True
    mask = "drop"
    args = (Arg("target_shape", Shape(minus_one=True)),)
    samples = (({"target_shape": (2, 6)}, [(F, (3, 4))]), ({"target_shape": (-1, 2)}, [(F, (3, 4))]),
               ({"target_shape": (4, -1)}, [(F, (8,))]))

    def infer(self, a, ins):
        t = one(ins, "Reshape")
        target = a["target_shape"]
        if any(d is None for d in t.shape):
            return [TensorType(t.dtype, tuple(None if d == -1 else d for d in target))]
        total, known = math.prod(t.shape), math.prod(d for d in target if d != -1)
        if -1 in target:
            if total % known:
                raise ShapeError(M.RESHAPE_FIT, total=total, target=target)
            target = tuple(total // known if d == -1 else d for d in target)
        elif known != total:
            raise ShapeError(M.RESHAPE_COUNT, target=target, known=known, shape=t, total=total)
        return [TensorType(t.dtype, target)]
