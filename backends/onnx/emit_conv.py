"""Conv1D, Conv2D and the pooling layers, channels_last as Keras's.

ONNX's Conv and pools read channels first, so the input is transposed in and the output back.
Padding is TensorFlow's (registry/conv.py's ``padding_widths``): explicit pads wherever the
sizes are known, ``SAME_UPPER`` (the odd extra after, as TensorFlow) for a "same" axis of a
length known only at run time with strides.
"""

from __future__ import annotations

import numpy as np

from spec2net.registry import LAYERS
from spec2net.registry.conv import padding_widths

from .activations import activate
from .emitter import EMITTERS, Call, Emitter


def _channels_first(c: Call, x: str, rank: int) -> str:
    return c.op("Transpose", [x], perm=[0, rank + 1, *range(1, rank + 1)])


def _channels_last(c: Call, x: str, rank: int, out: int | None = None) -> str:
    return c.op("Transpose", [x], out=out, perm=[0, *range(2, rank + 2), 1])


def _padding(c: Call, window) -> dict:
    """The pads attribute (all befores, then all afters), or auto_pad where a size is unknown."""
    widths = padding_widths(c.in_types[0].shape[:-1], window.spans, window.strides, window.padding)
    if any(w is None for w in widths):
        return {"auto_pad": "SAME_UPPER"}
    return {"pads": [b for b, _ in widths] + [e for _, e in widths]}


class _Conv(Emitter):
    def emit(self, c: Call):
        defn = LAYERS[c.layer.type]
        window, rank = defn.window(c.a), defn.rank
        ins = [_channels_first(c, c.ins[0], rank), c.w("kernel", "conv_kernel")]
        if c.a["use_bias"]:
            ins.append(c.w("bias"))
        y = c.op("Conv", ins, kernel_shape=list(window.size), strides=list(window.strides),
                 dilations=list(window.dilation), group=c.a["groups"], **_padding(c, window))
        activate(c.g, c.a["activation"], _channels_last(c, y, rank), c.hint, c.outs[0])


EMITTERS.add(_Conv(), "Conv1D", "Conv2D")


class _Pool(Emitter):
    op_type, extra = "", {}

    def emit(self, c: Call):
        defn = LAYERS[c.layer.type]
        window, rank = defn.window(c.a), defn.rank
        y = c.op(self.op_type, [_channels_first(c, c.ins[0], rank)], kernel_shape=list(window.size),
                 strides=list(window.strides), **self.extra, **_padding(c, window))
        _channels_last(c, y, rank, out=0)


class _MaxPool(_Pool):
    op_type = "MaxPool"  # ONNX leaves the padding out of the max, as TensorFlow's -inf padding


class _AveragePool(_Pool):
    op_type, extra = "AveragePool", {"count_include_pad": 0}  # TensorFlow's "same": real values counted


EMITTERS.add(_MaxPool(), "MaxPooling1D", "MaxPooling2D")
EMITTERS.add(_AveragePool(), "AveragePooling1D", "AveragePooling2D")


class _Global(Emitter):
    reduce = ""

    def emit(self, c: Call):
        axes = c.g.const(list(range(1, len(c.in_types[0].shape))))
        c.op(self.reduce, [c.ins[0], axes], out=0, keepdims=int(c.a["keepdims"]))


class _GlobalMax(_Global):
    reduce = "ReduceMax"  # Keras 3.15's GlobalMaxPooling1D ignores a mask


class _GlobalAverage(_Global):
    reduce = "ReduceMean"

    def emit(self, c: Call):
        if c.mask is None:
            return super().emit(c)
        # the mean of the unmasked steps (a fully masked row divides 0 by 0, as Keras does)
        m = c.op("Unsqueeze", [c.mask, c.g.const([-1])])
        keep, axis = int(c.a["keepdims"]), c.g.const([1])
        kept = c.op("Where", [m, c.ins[0], c.g.const(0.0, np.float32)])
        total = c.op("ReduceSum", [kept, axis], keepdims=keep)
        c.op("Div", [total, c.op("ReduceSum", [c.g.as_float(m, c.hint), axis], keepdims=keep)], out=0)


EMITTERS.add(_GlobalMax(), "GlobalMaxPooling1D", "GlobalMaxPooling2D")
EMITTERS.add(_GlobalAverage(), "GlobalAveragePooling1D", "GlobalAveragePooling2D")
