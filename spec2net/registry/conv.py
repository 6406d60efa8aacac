"""Conv1D and Conv2D (keras/src/layers/convolutional), channels_last only.

The window arithmetic (``window_out``) is shared with the pooling layers (pooling.py): Keras's
``compute_conv_output_shape`` and ``compute_pooling_output_shape``, where "same" and "causal"
give ceil(n / stride) positions and "valid" floor((n - span) / stride) + 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .. import messages as M
from ..ir import TensorType
from .base import LayerDef, ShapeError, act_arg, init_arg, one, param, reg_arg, register
from .types import Arg, ArgError, ArgType, Bool, Int, Optional, Sym

F = "float32"


class IntTuple(ArgType):
    """Keras's ``standardize_tuple``: one positive integer for every spatial axis, or a tuple of
    ``n``. Stored as Keras's defaults are written: an int for one axis (``strides=1``), a tuple
    for two (``kernel_size=3`` on Conv2D is (3, 3)); ``LayerDef.window`` gives tuples always."""

    def __init__(self, n: int):
        self.n = n
        self.expected = "a positive integer" + ("" if n == 1 else f" or a tuple of {n} positive integers")

    def coerce(self, v, resolve):
        items = (v,) * self.n if isinstance(v, int) and not isinstance(v, bool) else v
        if not isinstance(items, (tuple, list)) or len(items) != self.n:
            raise ArgError("arg-type", self.expected)
        if any(isinstance(d, bool) or not isinstance(d, int) for d in items):
            raise ArgError("arg-type", self.expected)
        if any(d < 1 or d > 2**31 - 1 for d in items):  # torch and TensorFlow take int32 windows
            raise ArgError("arg-range", self.expected)
        return items[0] if self.n == 1 else tuple(items)


class Choice(ArgType):
    """One of a few words, written as a string or a bare name: ``padding="same"`` or ``padding=same``."""

    kind = "choice"  # a bare name is a value here, not an undefined variable (args._takes_symbols)

    def __init__(self, *words: str):
        self.words = words
        self.expected = " or ".join(f'"{w}"' for w in words)

    def coerce(self, v, resolve):
        word = v.name if isinstance(v, Sym) else v
        if not isinstance(word, str):
            raise ArgError("arg-type", self.expected)
        if word not in self.words:
            raise ArgError("arg-range", self.expected)
        return word


def data_format_arg() -> Arg:
    # Keras's None reads keras.json; the language's is channels_last only (the Keras emitters pin it)
    return Arg("data_format", Optional(Choice("channels_last")), None)


def as_tuple(v, n: int) -> tuple:
    return (v,) * n if isinstance(v, int) else tuple(v)


@dataclass(frozen=True)
class Window:
    """A convolution's or pool's window per spatial axis, as tuples, and its padding."""

    size: tuple
    strides: tuple
    dilation: tuple
    padding: str

    @property
    def spans(self) -> tuple:
        """The dilated window's extent per axis: (k - 1) * dilation + 1."""
        return tuple((k - 1) * d + 1 for k, d in zip(self.size, self.dilation))


def spatial(t: TensorType, rank: int, layer: str) -> tuple:
    """The spatial dims of a channels_last input of ``rank`` spatial axes (then channels)."""
    if len(t.shape) != rank + 1:
        dims = "steps" if rank == 1 else "height, width"
        raise ShapeError(M.NEEDS_SPATIAL, layer=layer, rank=rank + 1, dims=dims, shape=t)
    return t.shape[:-1]


def window_out(n, size: int, stride: int, padding: str):
    """Output positions along one axis: ``window_out(28, 3, 1, "valid") == 26``; None stays None."""
    if n is None:
        return None
    if padding == "valid":
        return (n - size) // stride + 1 if n >= size else 0
    return math.ceil(n / stride)


def padding_widths(dims, spans, strides, padding) -> list:
    """(before, after) per spatial axis, as TensorFlow pads ("same": the odd one after; "causal":
    all before); None for a "same" axis of unknown size whose padding depends on it (strides > 1).

    >>> padding_widths((5,), (3,), (2,), "same")
    [(1, 1)]
    """
    out = []
    for n, k, s in zip(dims, spans, strides):
        if padding == "causal":
            out.append((k - 1, 0))
        elif padding == "valid":
            out.append((0, 0))
        elif n is None and s > 1:
            out.append(None)
        else:  # with stride 1 the total is span - 1 whatever the size
            total = k - 1 if s == 1 else max((window_out(n, k, s, "same") - 1) * s + k - n, 0)
            out.append((total // 2, total - total // 2))
    return out


def out_spatial(layer: str, t: TensorType, dims: tuple, window: tuple, strides: tuple, padding: str) -> tuple:
    """Every spatial axis's output size; an empty output is a located error, as in Keras."""
    out = tuple(window_out(n, k, s, padding) for n, k, s in zip(dims, window, strides))
    if any(o == 0 for o in out):
        raise ShapeError(M.WINDOW_EMPTY, layer=layer, window=window, strides=strides, shape=t)
    return out


class _Conv(LayerDef):
    rank = 1
    mask = "drop"  # Keras's convolutions do not support masking: the mask stops here

    def infer(self, a, ins):
        t = one(ins, self.name)
        dims = spatial(t, self.rank, self.name)
        channels = t.shape[-1]
        if channels is None:
            raise ShapeError(M.NEEDS_LAST_DIM, layer=self.name, shape=t)
        if a["filters"] % a["groups"]:
            raise ShapeError(M.GROUPS_FILTERS, layer=self.name, filters=a["filters"], groups=a["groups"])
        if channels % a["groups"]:
            raise ShapeError(M.GROUPS_CHANNELS, layer=self.name, channels=channels, groups=a["groups"])
        w = self.window(a)
        if max(w.strides) > 1 and max(w.dilation) > 1:
            raise ShapeError(M.STRIDED_DILATION, layer=self.name, strides=a["strides"], dilation=a["dilation_rate"])
        out = out_spatial(self.name, t, dims, w.spans, w.strides, w.padding)
        return [TensorType(F, out + (a["filters"],))]

    def window(self, a) -> Window:
        n = self.rank
        return Window(as_tuple(a["kernel_size"], n), as_tuple(a["strides"], n), as_tuple(a["dilation_rate"], n),
                      a["padding"])

    def params(self, a, ins):
        shape = self.window(a).size + (ins[0].shape[-1] // a["groups"], a["filters"])
        out = [param("kernel", shape, a, "kernel_initializer", "kernel_regularizer")]
        if a["use_bias"]:
            out.append(param("bias", (a["filters"],), a, "bias_initializer", "bias_regularizer"))
        return out

    def step_elements(self, a, ins):
        """The NumPy kernel's im2col matrix: a window of every input channel per output position,
        counted per step of the first spatial axis (an unknown width counts as one column)."""
        t, w = ins[0], self.window(a)
        per_row = math.prod(w.size) * t.shape[-1]
        for n, k, s in zip(t.shape[1:-1], w.spans[1:], w.strides[1:]):
            per_row *= window_out(n, k, s, w.padding) or 1
        return per_row


_ONES = {1: 1, 2: (1, 1)}  # Keras's defaults as written: Conv1D(strides=1), Conv2D(strides=(1, 1))


def _conv_args(rank: int, paddings: tuple) -> tuple:
    return (Arg("filters", Int(1)), Arg("kernel_size", IntTuple(rank)),
            Arg("strides", IntTuple(rank), _ONES[rank]), Arg("padding", Choice(*paddings), "valid"),
            data_format_arg(), Arg("dilation_rate", IntTuple(rank), _ONES[rank]), Arg("groups", Int(1), 1),
            act_arg(), Arg("use_bias", Bool(), True),
            init_arg("kernel_initializer", "glorot_uniform"), init_arg("bias_initializer", "zeros"),
            reg_arg("kernel_regularizer"), reg_arg("bias_regularizer"), reg_arg("activity_regularizer"))


@register
class Conv1D(_Conv):
    name, auto_name = "Conv1D", "conv1d"
    rank = 1
    args = _conv_args(1, ("valid", "same", "causal"))
    samples = (({"filters": 3, "kernel_size": 2}, [(F, (6, 2))]),
               ({"filters": 4, "kernel_size": 3, "padding": "same", "strides": 2, "activation": "relu"},
                [(F, (7, 3))]),
               ({"filters": 2, "kernel_size": 2, "padding": "causal", "dilation_rate": 2}, [(F, (None, 3))]),
               ({"filters": 4, "kernel_size": 3, "groups": 2, "use_bias": False, "padding": "same"},
                [(F, (5, 4))]),
               ({"filters": 2, "kernel_size": 3, "padding": "causal", "strides": 2}, [(F, (6, 2))]),
               # "same" with strides on a length known only at run time: the padding depends on it
               ({"filters": 2, "kernel_size": 2, "padding": "same", "strides": 2}, [(F, (None, 2))]))


@register
class Conv2D(_Conv):
    name, auto_name = "Conv2D", "conv2d"
    rank = 2
    args = _conv_args(2, ("valid", "same"))
    samples = (({"filters": 3, "kernel_size": 3}, [(F, (6, 5, 2))]),
               ({"filters": 4, "kernel_size": (2, 3), "strides": (2, 1), "padding": "same", "activation": "tanh"},
                [(F, (5, 6, 3))]),
               ({"filters": 2, "kernel_size": 2, "dilation_rate": (2, 1), "padding": "same"}, [(F, (5, 4, 1))]),
               ({"filters": 4, "kernel_size": 2, "groups": 2, "use_bias": False}, [(F, (4, 4, 2))]))
