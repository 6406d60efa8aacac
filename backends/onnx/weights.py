"""Keras's weight layouts as ONNX's: the only place the ONNX backend converts one.

Each conversion takes a weight in Keras's layout (``kernel`` (in, out), gates in Keras's order)
and returns the array the ONNX op reads. Emitters name a conversion (``c.w("kernel",
"lstm_W")``); the initializer keeps the Keras key, with the conversion after a colon.
"""

from __future__ import annotations

import numpy as np

from spec2net.tables import Table

CONVERSIONS = Table("ONNX weight conversion", instantiate=False)

# ONNX's LSTM orders its gates i o f c; Keras's kernel columns are i f c o
_LSTM_GATES = (0, 3, 1, 2)


def convert(name: str, arr, **kw) -> np.ndarray:
    """``convert("conv_kernel", k)``: the array in the layout an ONNX op reads."""
    return np.asarray(CONVERSIONS[name](np.asarray(arr, np.float32), **kw), np.float32)


def _gates(arr, n: int, order=None):
    """Split the last axis into ``n`` gates, reordered."""
    parts = np.split(arr, n, axis=-1)
    return np.concatenate([parts[i] for i in (order or range(n))], axis=-1)


@CONVERSIONS.register("copy")
def copy(arr):
    return arr


@CONVERSIONS.register("conv_kernel")
def conv_kernel(arr):
    """Keras (spatial..., in/groups, out) -> ONNX's (out, in/groups, spatial...)."""
    rank = arr.ndim - 2
    return arr.transpose(rank + 1, rank, *range(rank))


@CONVERSIONS.register("broadcast")
def broadcast(arr, shape):
    """A normalization's parameter reshaped (not transposed) to broadcast over the input, as
    keras.ops does: ``shape`` is the input's rank with 1 off the normalized axes."""
    return arr.reshape(shape)


@CONVERSIONS.register("row")
def row(arr, index):
    """One row of GRU(reset_after)'s (2, 3u) bias: 0 the input bias, 1 the recurrent one."""
    return arr[index]


@CONVERSIONS.register("columns")
def columns(arr, lo, hi):
    """Columns ``lo:hi`` of a kernel: GRU(reset_after=false)'s gates z r apart from h."""
    return arr[:, lo:hi]


def _recurrent(gates: int, order=None):
    def weight(arr):
        """(in, gates * u) -> (1 direction, gates * u, in), ONNX's gate order."""
        return _gates(arr, gates, order).T[None]

    return weight


for _cell, _n, _order in (("lstm", 4, _LSTM_GATES), ("gru", 3, None), ("rnn", 1, None)):
    CONVERSIONS.add(_recurrent(_n, _order), f"{_cell}_W", f"{_cell}_R")


def _one_bias(gates: int, order=None):
    def bias(arr):
        """Keras's one bias -> ONNX's [input bias, recurrent bias], the recurrent one zero."""
        b = _gates(arr, gates, order)
        return np.concatenate([b, np.zeros_like(b)])[None]

    return bias


CONVERSIONS.add(_one_bias(4, _LSTM_GATES), "lstm_B")
CONVERSIONS.add(_one_bias(1), "rnn_B")


@CONVERSIONS.register("gru_B")
def gru_bias(arr):
    """reset_after's (2, 3u) bias is ONNX's [Wb, Rb] as it stands; the single (3u,) bias is Wb."""
    if arr.ndim == 2:
        return arr.reshape(1, -1)
    return np.concatenate([arr, np.zeros_like(arr)])[None]
