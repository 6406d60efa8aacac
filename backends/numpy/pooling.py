"""Max and average pooling, windowed and global (keras/src/layers/pooling), channels_last.

A windowed pool reduces the strided slices of its window's offsets (4 for a 2x2 pool), never a
loop over positions. "same" padding is TensorFlow's: max pooling pads with -inf, average
pooling leaves the padding out of each window's count.
"""

from __future__ import annotations

import numpy as np

from spec2net.tables import Table

from .base import Kernel, KernelCall
from .conv import Geometry, pad, window_slice

KERNELS = Table("NumPy kernel")


def window_counts(g: Geometry, dims, dtype):
    """How many real (unpadded) values each window holds, shaped to broadcast over the output."""
    ones = pad(np.ones((1, *dims, 1), dtype), g.widths)
    return sum(ones[window_slice(s, g.out, g.strides)] for s in g.starts)


@KERNELS.register("MaxPooling1D", "MaxPooling2D")
class MaxPool(Kernel):
    def forward(self, c: KernelCall, xs):
        x = xs[0]
        g = Geometry(c.layer, x.shape[1:-1])
        xp = pad(x, g.widths, -np.inf)
        y = xp[window_slice(g.starts[0], g.out, g.strides)].copy()
        for start in g.starts[1:]:
            np.maximum(y, xp[window_slice(start, g.out, g.strides)], out=y)
        return [y], ((g, xp) if c.keep else None)


@KERNELS.register("AveragePooling1D", "AveragePooling2D")
class AveragePool(Kernel):
    def forward(self, c: KernelCall, xs):
        x = xs[0]
        g = Geometry(c.layer, x.shape[1:-1])
        xp = pad(x, g.widths)
        total = sum(xp[window_slice(s, g.out, g.strides)] for s in g.starts)
        count = window_counts(g, x.shape[1:-1], x.dtype)
        return [total / count], ((g, count) if c.keep else None)


def steps_axes(x) -> tuple:
    return tuple(range(1, x.ndim - 1))


@KERNELS.register("GlobalMaxPooling1D", "GlobalMaxPooling2D")
class GlobalMax(Kernel):
    """The max over every step or pixel; Keras 3.15's GlobalMaxPooling1D ignores a mask."""

    def forward(self, c: KernelCall, xs):
        return [xs[0].max(axis=steps_axes(xs[0]), keepdims=c.a["keepdims"])], None


@KERNELS.register("GlobalAveragePooling1D", "GlobalAveragePooling2D")
class GlobalAverage(Kernel):
    """The mean over every step or pixel; with a mask (1D), the mean of the unmasked steps only
    (a fully masked row divides 0 by 0, as Keras does)."""

    def forward(self, c: KernelCall, xs):
        x, axes, keep = xs[0], steps_axes(xs[0]), c.a["keepdims"]
        mask = c.masks[0]
        if mask is None:
            return [x.mean(axis=axes, keepdims=keep)], None
        m = mask[..., None]
        with np.errstate(invalid="ignore", divide="ignore"):
            y = np.where(m, x, 0).sum(axis=1, keepdims=keep) / m.sum(axis=1, keepdims=keep, dtype=x.dtype)
        return [y], None
