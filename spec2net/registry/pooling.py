"""Max and average pooling, windowed and global, 1D and 2D (keras/src/layers/pooling), channels_last."""

from __future__ import annotations

from ..ir import TensorType
from .base import LayerDef, one, register
from .conv import Choice, IntTuple, Window, as_tuple, data_format_arg, out_spatial, spatial
from .types import REQUIRED, Arg, Bool, Optional

F = "float32"


class _Pool(LayerDef):
    rank = 1
    mask = "drop"  # Keras's pooling layers do not support masking

    def infer(self, a, ins):
        t = one(ins, self.name)
        dims = spatial(t, self.rank, self.name)
        w = self.window(a)
        out = out_spatial(self.name, t, dims, w.size, w.strides, w.padding)
        return [TensorType(F, out + t.shape[-1:])]

    def window(self, a) -> Window:
        """Keras's strides default to the pool size."""
        size = as_tuple(a["pool_size"], self.rank)
        strides = size if a["strides"] is None else as_tuple(a["strides"], self.rank)
        return Window(size, strides, (1,) * self.rank, a["padding"])


def _pool_args(rank: int, default) -> tuple:
    return (Arg("pool_size", IntTuple(rank), default), Arg("strides", Optional(IntTuple(rank)), None),
            Arg("padding", Choice("valid", "same"), "valid"), data_format_arg())


_SAMPLES_1D = (({"pool_size": 2}, [(F, (6, 3))]), ({"pool_size": 3, "strides": 2, "padding": "same"}, [(F, (8, 2))]),
               ({"pool_size": 2, "strides": 1}, [(F, (None, 2))]), ({"pool_size": 2, "padding": "same"}, [(F, (None, 3))]))
_SAMPLES_2D = (({"pool_size": 2}, [(F, (4, 6, 2))]),
               ({"pool_size": (3, 2), "strides": (2, 1), "padding": "same"}, [(F, (5, 4, 3))]),
               ({"pool_size": 2, "strides": 1, "padding": "same"}, [(F, (3, 3, 1))]))


@register
class MaxPooling1D(_Pool):
    name, auto_name = "MaxPooling1D", "max_pooling1d"
    args = _pool_args(1, 2)
    samples = _SAMPLES_1D


@register
class AveragePooling1D(_Pool):
    name, auto_name = "AveragePooling1D", "average_pooling1d"
    args = _pool_args(1, REQUIRED)  # Keras gives AveragePooling no default pool_size
    samples = _SAMPLES_1D


@register
class MaxPooling2D(_Pool):
    name, auto_name = "MaxPooling2D", "max_pooling2d"
    rank = 2
    args = _pool_args(2, (2, 2))
    samples = _SAMPLES_2D


@register
class AveragePooling2D(_Pool):
    name, auto_name = "AveragePooling2D", "average_pooling2d"
    rank = 2
    args = _pool_args(2, REQUIRED)
    samples = _SAMPLES_2D


class _Global(LayerDef):
    rank = 1
    mask = "drop"  # the output has no steps left to mask

    def infer(self, a, ins):
        t = one(ins, self.name)
        spatial(t, self.rank, self.name)
        keep = (1,) * self.rank if a["keepdims"] else ()
        return [TensorType(F, keep + t.shape[-1:])]


_GLOBAL_ARGS = (data_format_arg(), Arg("keepdims", Bool(), False))


@register
class GlobalMaxPooling1D(_Global):
    name, auto_name = "GlobalMaxPooling1D", "global_max_pooling1d"
    args = _GLOBAL_ARGS
    # Keras 3.15's GlobalMaxPooling1D ignores a mask: the max runs over every step, padding included
    samples = (({}, [(F, (5, 3))]), ({"keepdims": True}, [(F, (None, 2))]))


@register
class GlobalAveragePooling1D(_Global):
    name, auto_name = "GlobalAveragePooling1D", "global_average_pooling1d"
    args = _GLOBAL_ARGS
    samples = GlobalMaxPooling1D.samples  # with a mask: the mean of the unmasked steps (tests/test_conv.py)


@register
class GlobalMaxPooling2D(_Global):
    name, auto_name = "GlobalMaxPooling2D", "global_max_pooling2d"
    rank = 2
    args = _GLOBAL_ARGS
    samples = (({}, [(F, (3, 4, 2))]), ({"keepdims": True}, [(F, (2, 3, 3))]))


@register
class GlobalAveragePooling2D(_Global):
    name, auto_name = "GlobalAveragePooling2D", "global_average_pooling2d"
    rank = 2
    args = _GLOBAL_ARGS
    samples = GlobalMaxPooling2D.samples
