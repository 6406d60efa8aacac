"""BatchNormalization and LayerNormalization (keras/src/layers/normalization)."""

from __future__ import annotations

import numpy as np

from spec2net.tables import Table

from .base import Kernel, KernelCall

KERNELS = Table("NumPy kernel")


def _axes(axis, ndim) -> tuple:
    return tuple(sorted(a % ndim for a in (axis if isinstance(axis, tuple) else (axis,))))


def _bcast(v, x_shape, axes):
    """A parameter of the normalized axes, reshaped (not transposed) to broadcast against the input,
    as keras.ops.layer_normalization does: its shape lists the axes in the order Keras sorts them
    as written (axis=[1, -1] gives (last, first)), its values are in the input's order."""
    shape = [1] * len(x_shape)
    for a in axes:
        shape[a] = x_shape[a]
    return v.reshape(shape)


def _normalize(x, mean, var, eps, gamma, beta):
    # tf.nn.batch_normalization's order: inv = rsqrt(var + eps) * gamma; x * inv + (beta - mean * inv)
    inv = 1.0 / np.sqrt(var + eps)
    if gamma is not None:
        inv = inv * gamma
    shift = -mean * inv if beta is None else beta - mean * inv
    return x * inv + shift


def _masked_moments(x, mask, red):
    # Keras's BatchNormalization._moments with a mask: masked entries weigh nothing
    m = np.broadcast_to(mask[..., None], x.shape)
    count = m.sum(axis=red, keepdims=True, dtype=x.dtype) + 1e-7
    mean = np.where(m, x, 0).sum(axis=red, keepdims=True) / count
    var = np.square(np.where(m, x - mean, 0)).sum(axis=red, keepdims=True) / count
    return mean, var


@KERNELS.register("BatchNormalization")
class BatchNormalization(Kernel):
    """Batch statistics (biased variance) in training mode, updating the moving statistics
    as ``moving * momentum + batch * (1 - momentum)``; the moving statistics at inference."""

    def forward(self, c: KernelCall, xs):
        x, a, w = xs[0], c.a, c.w
        axes = _axes(a["axis"], x.ndim)
        red = tuple(i for i in range(x.ndim) if i not in axes)
        gamma = _bcast(w["gamma"], x.shape, axes) if a["scale"] else None
        beta = _bcast(w["beta"], x.shape, axes) if a["center"] else None
        if c.training and c.layer.trainable:
            if c.masks[0] is None:
                mean = x.mean(axis=red, keepdims=True)
                var = np.square(x - mean).mean(axis=red, keepdims=True)
            else:
                mean, var = _masked_moments(x, c.masks[0], red)
            mom = a["momentum"]
            c.updates["moving_mean"] = w["moving_mean"] * mom + mean.reshape(w["moving_mean"].shape) * (1.0 - mom)
            c.updates["moving_variance"] = (w["moving_variance"] * mom
                                            + var.reshape(w["moving_variance"].shape) * (1.0 - mom))
        else:
            mean = _bcast(w["moving_mean"], x.shape, axes)
            var = _bcast(w["moving_variance"], x.shape, axes)
        y = _normalize(x, mean, var, a["epsilon"], gamma, beta)
        return [y], ((x, mean, var) if c.keep else None)


@KERNELS.register("LayerNormalization")
class LayerNormalization(Kernel):
    def forward(self, c: KernelCall, xs):
        x, a, w = xs[0], c.a, c.w
        axes = _axes(a["axis"], x.ndim)
        mean = x.mean(axis=axes, keepdims=True)
        var = np.square(x - mean).mean(axis=axes, keepdims=True)
        gamma = _bcast(w["gamma"], x.shape, axes) if a["scale"] else None
        beta = _bcast(w["beta"], x.shape, axes) if a["center"] else None
        y = _normalize(x, mean, var, a["epsilon"], gamma, beta)
        return [y], ((x, mean, var) if c.keep else None)
