"""Gradients of Conv1D/Conv2D and of the pooling layers.

A convolution's backward pass is two GEMMs against its forward's im2col matrix (the kernel's
gradient, and the columns' gradient), then col2im: each kernel offset's slice of the columns is
added back into the padded input, one offset at a time, and the padding cut off.
"""

from __future__ import annotations

import numpy as np

from spec2net.tables import Table

from ..conv import window_slice
from ..pooling import steps_axes
from .core import PRE_ACTIVATION, _through

GRADS = Table("NumPy gradient")
PRE_ACTIVATION.add(lambda cache: cache[2], "Conv1D", "Conv2D")  # the cache is (geometry, cols, z, y)


def unpad(gxp, g):
    """The padded input's gradient cut back to the input's extent."""
    return gxp[(slice(None), *(slice(b, gxp.shape[i + 1] - e) for i, (b, e) in enumerate(g.widths)), slice(None))]


def col2im(gcols, g, padded_shape):
    """The input's gradient from the im2col matrix's: (batch, out..., offsets, channels) -> input."""
    gxp = np.zeros(padded_shape, gcols.dtype)
    for j, start in enumerate(g.starts):
        gxp[window_slice(start, g.out, g.strides)] += gcols[..., j, :]
    return unpad(gxp, g)


@GRADS.register("Conv1D", "Conv2D")
def conv(c, xs, outs, cache, gys):
    g, cols, z, y = cache
    kernel, groups = c.w["kernel"], c.a["groups"]
    gz = _through(c.a["activation"], z, y, gys).reshape(-1, kernel.shape[-1])
    rows = cols.reshape(gz.shape[0], -1)
    filters, per = kernel.shape[-1], kernel.shape[-1] // groups
    k, cg = kernel.size // (kernel.shape[-2] * filters), kernel.shape[-2]
    if groups == 1:
        gw = rows.T @ gz
        gcols = gz @ kernel.reshape(-1, filters).T
    else:  # per group: its columns' channels against its filters
        lhs = rows.reshape(-1, k, groups, cg).transpose(2, 3, 1, 0).reshape(groups, cg * k, -1)
        rhs = gz.reshape(-1, groups, per).transpose(1, 0, 2)
        gw = np.matmul(lhs, rhs).reshape(groups, cg, k, per).transpose(2, 1, 0, 3)
        w = kernel.reshape(k, cg, groups, per).transpose(2, 3, 0, 1).reshape(groups, per, k * cg)
        gcols = np.matmul(rhs, w).reshape(groups, -1, k, cg).transpose(1, 2, 0, 3)
    out = {"kernel": gw.reshape(kernel.shape)}
    if c.a["use_bias"]:
        out["bias"] = gz.sum(0)
    gx = col2im(gcols.reshape(cols.shape), g, _padded(xs[0].shape, g))
    return [gx], out


def _padded(shape, g):
    return (shape[0], *(n + b + e for n, (b, e) in zip(shape[1:-1], g.widths)), shape[-1])


@GRADS.register("MaxPooling1D", "MaxPooling2D")
def max_pool(c, xs, outs, cache, gys):
    """Each window's gradient goes to its first maximal value (TensorFlow's MaxPoolGrad)."""
    g, xp = cache
    y, gy = outs[0], gys[0]
    gxp = np.zeros(xp.shape, gy.dtype)
    unclaimed = np.ones(y.shape, bool)
    for start in g.starts:
        at = window_slice(start, g.out, g.strides)
        hit = unclaimed & (xp[at] == y)
        gxp[at] += np.where(hit, gy, 0)
        unclaimed &= ~hit
    return [unpad(gxp, g)], {}


@GRADS.register("AveragePooling1D", "AveragePooling2D")
def average_pool(c, xs, outs, cache, gys):
    g, count = cache
    share = gys[0] / count
    gxp = np.zeros(_padded(xs[0].shape, g), share.dtype)
    for start in g.starts:
        gxp[window_slice(start, g.out, g.strides)] += share
    return [unpad(gxp, g)], {}


@GRADS.register("GlobalMaxPooling1D", "GlobalMaxPooling2D")
def global_max(c, xs, outs, cache, gys):
    x, axes = xs[0], steps_axes(xs[0])
    y = x.max(axis=axes, keepdims=True)
    # tf.reduce_max's gradient: shared equally by the values equal to the max
    hit = (x == y).astype(x.dtype)
    gx = hit / hit.sum(axis=axes, keepdims=True) * gys[0].reshape(y.shape)
    return [gx], {}


@GRADS.register("GlobalAveragePooling1D", "GlobalAveragePooling2D")
def global_average(c, xs, outs, cache, gys):
    x, axes = xs[0], steps_axes(xs[0])
    gy = gys[0].reshape(x.shape[0], *(1,) * len(axes), x.shape[-1])
    mask = c.masks[0]
    if mask is None:
        return [np.broadcast_to(gy / np.prod([x.shape[i] for i in axes]), x.shape).copy()], {}
    m = mask[..., None]
    return [np.where(m, gy / m.sum(axis=1, keepdims=True, dtype=x.dtype), 0)], {}
