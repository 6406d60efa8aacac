"""Gradients of BatchNormalization (both modes) and LayerNormalization."""

from __future__ import annotations

import numpy as np

from spec2net.tables import Table

from ..normalization import _axes
from ..normalization import _bcast as _shape

GRADS = Table("NumPy gradient")


def _norm_grad(c, x, mean, var, gy, stat_axes, weight, batch_stats):
    """y = (x - mean) / sqrt(var + eps) * gamma + beta; with ``batch_stats`` mean and var are
    weighted moments of x over ``stat_axes`` (weights ``weight``, summing to one).

    dL/dx_i = s * (g_i - w_i * (sum_j g_j + xhat_i * sum_j g_j * xhat_j)), g = dL/dxhat: the
    sums run over every position, a masked one included (its output is normalized by the same
    moments), and only the moments' own dependence on x_i carries w_i. A masked position
    (w_i = 0) gets the direct term s * g_i alone, as in Keras, whose masked moments never read
    it: zero where the next layer ignores masked steps, so a mask_zero Embedding's padding row
    gets no gradient."""
    a, w = c.a, c.w
    axes = _axes(a["axis"], x.ndim)
    param_red = tuple(i for i in range(x.ndim) if i not in axes)
    s = 1.0 / np.sqrt(var + a["epsilon"])
    xhat = (x - mean) * s
    gw = {}
    if a["scale"]:
        gw["gamma"] = (gy * xhat).sum(param_red).reshape(w["gamma"].shape)
        gxhat = gy * _shape(w["gamma"], x.shape, axes)
    else:
        gxhat = gy
    if a["center"]:
        gw["beta"] = gy.sum(param_red).reshape(w["beta"].shape)
    if not batch_stats:
        return gxhat * s, gw
    sum_g = gxhat.sum(stat_axes, keepdims=True)
    sum_gx = (gxhat * xhat).sum(stat_axes, keepdims=True)
    return s * (gxhat - weight * (sum_g + xhat * sum_gx)), gw


@GRADS.register("BatchNormalization")
def batch_normalization(c, xs, outs, cache, gys):
    x, mean, var = cache
    axes = _axes(c.a["axis"], x.ndim)
    red = tuple(i for i in range(x.ndim) if i not in axes)
    batch_stats = c.training and c.layer.trainable
    if not batch_stats:
        return _grad_list(_norm_grad(c, x, mean, var, gys[0], red, None, False))
    if c.masks[0] is None:
        weight = np.full((1,) * x.ndim, 1.0 / np.prod([x.shape[i] for i in red]), x.dtype)
    else:  # Keras's masked moments: masked entries weigh nothing
        m = np.broadcast_to(c.masks[0][..., None], x.shape).astype(x.dtype)
        weight = m / (m.sum(red, keepdims=True) + 1e-7)
    return _grad_list(_norm_grad(c, x, mean, var, gys[0], red, weight, True))


@GRADS.register("LayerNormalization")
def layer_normalization(c, xs, outs, cache, gys):
    x, mean, var = cache
    axes = _axes(c.a["axis"], x.ndim)
    weight = np.full((1,) * x.ndim, 1.0 / np.prod([x.shape[i] for i in axes]), x.dtype)
    return _grad_list(_norm_grad(c, x, mean, var, gys[0], axes, weight, True))


def _grad_list(pair):
    gx, gw = pair
    return [gx], gw
