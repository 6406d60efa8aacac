"""Conv1D and Conv2D (keras/src/layers/convolutional), channels_last, as one GEMM each.

The input is padded as TensorFlow pads ("same": the odd extra on the right/bottom; "causal":
all of it on the left), then unfolded into an im2col matrix with one row per output position
and one column per (kernel offset, input channel): filling it loops over the kernel's offsets
(9 for a 3x3 kernel), never over positions. Grouped convolutions are one batched matmul.
The window helpers here serve the pooling kernels too (pooling.py).
"""

from __future__ import annotations

import itertools

import numpy as np

from spec2net.registry import LAYERS
from spec2net.registry.conv import padding_widths, window_out
from spec2net.tables import Table

from .activations import activation
from .base import Kernel, KernelCall

KERNELS = Table("NumPy kernel")


def pad(x, widths, value=0.0):
    """``x`` (batch, spatial..., channels) padded on its spatial axes."""
    if not any(b or a for b, a in widths):
        return x
    return np.pad(x, [(0, 0), *widths, (0, 0)], constant_values=value)


def offsets(window, dilation):
    """Every kernel offset as a tuple of per-axis starts: ((0, 0), (0, 2), ...) for a dilated window."""
    return [tuple(i * d for i, d in zip(idx, dilation)) for idx in itertools.product(*(range(k) for k in window))]


def window_slice(start, out, strides):
    """The index of one kernel offset's values at every output position: strided slices."""
    return (slice(None), *(slice(b, b + (o - 1) * s + 1, s) for b, o, s in zip(start, out, strides)), slice(None))


class Geometry:
    """One call's padding and output sizes, from the layer's arguments and the input's shape."""

    def __init__(self, layer, dims):
        w = LAYERS[layer.type].window(layer.args)
        self.widths = padding_widths(dims, w.spans, w.strides, w.padding)
        padded = tuple(n + b + e for n, (b, e) in zip(dims, self.widths))
        self.out = tuple(window_out(n, k, s, "valid") for n, k, s in zip(padded, w.spans, w.strides))
        if any(o <= 0 for o in self.out):  # a `?` dimension shorter than a "valid" window
            from .interpreter import InputError  # (the interpreter imports this module)

            raise InputError(f"{layer.name}: its \"valid\" window {w.spans} does not fit the input's size "
                             f"{tuple(dims)}: the output would be empty, which Keras refuses too")
        self.starts = offsets(w.size, w.dilation)
        self.strides = w.strides


def im2col(xp, g: Geometry):
    """(batch, out..., offsets, channels): every window of the padded input, one offset at a time."""
    n, c = xp.shape[0], xp.shape[-1]
    cols = np.empty((n, *g.out, len(g.starts), c), xp.dtype)
    for j, start in enumerate(g.starts):
        cols[..., j, :] = xp[window_slice(start, g.out, g.strides)]
    return cols


def grouped_matmul(cols2d, kernel, groups):
    """cols (rows, offsets * channels) @ kernel (offsets..., channels / groups, filters): one GEMM,
    or one batched matmul over the groups (filter f reads the channels of group f // (filters / groups))."""
    filters = kernel.shape[-1]
    if groups == 1:
        return cols2d @ kernel.reshape(-1, filters)
    rows, cg = cols2d.shape[0], kernel.shape[-2]
    k = kernel.size // (cg * filters)  # kernel offsets
    lhs = cols2d.reshape(rows, k, groups, cg).transpose(2, 0, 1, 3).reshape(groups, rows, k * cg)
    rhs = kernel.reshape(k, cg, groups, filters // groups).transpose(2, 0, 1, 3).reshape(groups, k * cg, -1)
    return np.matmul(lhs, rhs).transpose(1, 0, 2).reshape(rows, filters)


@KERNELS.register("Conv1D", "Conv2D")
class Conv(Kernel):
    """im2col, one GEMM, the bias, then the activation (as Keras's BaseConv.call)."""

    def forward(self, c: KernelCall, xs):
        x, a, kernel = xs[0], c.a, c.w["kernel"]
        g = Geometry(c.layer, x.shape[1:-1])
        cols = im2col(pad(x, g.widths), g)
        z = grouped_matmul(cols.reshape(-1, cols.shape[-2] * cols.shape[-1]), kernel, a["groups"])
        if a["use_bias"]:
            z += c.w["bias"]
        z = z.reshape(x.shape[0], *g.out, kernel.shape[-1])
        act = activation(a["activation"])
        y = act(z) if c.keep else act(z, out=z)
        return [y], ((g, cols, z, y) if c.keep else None)
