"""RepeatVector, Permute, Masking, SpatialDropout1D, ReLU, ELU, Softmax, PReLU (Keras 3's
layers/reshaping, core/masking.py, regularization/spatial_dropout.py, activations/)."""

from __future__ import annotations

import numpy as np

from spec2net.ir import TensorType
from spec2net.registry import LAYERS
from spec2net.tables import Table

from .base import Kernel, KernelCall

KERNELS = Table("NumPy kernel")


@KERNELS.register("RepeatVector")
class RepeatVector(Kernel):
    def forward(self, c: KernelCall, xs):
        x = xs[0]
        return [np.repeat(x[:, None, :], c.a["n"], axis=1)], None


@KERNELS.register("Permute")
class Permute(Kernel):
    def forward(self, c: KernelCall, xs):
        # a copy, not a view: a later kernel may write its output in place
        return [np.ascontiguousarray(xs[0].transpose((0, *c.a["dims"])))], None


@KERNELS.register("Masking")
class Masking(Kernel):
    """A step is kept where any feature differs from ``mask_value``; masked steps become 0."""

    def forward(self, c: KernelCall, xs):
        x = xs[0]
        keep = _kept(c, x)
        return [np.where(keep[..., None], x, 0).astype(x.dtype, copy=False)], (keep if c.keep else None)

    def out_masks(self, c, xs, masks, outs):
        return [_kept(c, xs[0])]


def _kept(c: KernelCall, x):
    # compared in the input's dtype, as Keras compares with a float32 mask_value
    return np.any(x != np.asarray(c.a["mask_value"], x.dtype), axis=-1)


@KERNELS.register("SpatialDropout1D")
class SpatialDropout1D(Kernel):
    """Dropout of whole channels: one draw per sample and channel, the same at every step
    (Keras's noise shape (batch, 1, channels))."""

    def forward(self, c: KernelCall, xs):
        x, rate = xs[0], c.a["rate"]
        if not c.training or rate == 0:
            return [x], None
        keep = c.rng().random((x.shape[0], 1, x.shape[2])) >= rate
        scale = (keep / (1.0 - rate)).astype(x.dtype)
        return [x * scale], (scale if c.keep else None)


def relu(x, max_value, negative_slope, threshold):
    """Keras's activations.relu: x above the threshold (capped at max_value), else 0, minus
    negative_slope * (threshold - x) below it; in Keras's order of float32 operations."""
    y = np.where(x > threshold, x, 0) if threshold else np.maximum(x, 0)
    if max_value is not None:
        y = np.clip(y, 0, max_value)
    if negative_slope:
        y = y - np.asarray(negative_slope, x.dtype) * np.maximum(threshold - x, 0)
    return y.astype(x.dtype, copy=False)


@KERNELS.register("ReLU")
class ReLU(Kernel):
    def forward(self, c: KernelCall, xs):
        a = c.a
        return [relu(xs[0], a["max_value"], a["negative_slope"], a["threshold"])], (xs[0] if c.keep else None)


@KERNELS.register("ELU")
class ELU(Kernel):
    def forward(self, c: KernelCall, xs):
        x = xs[0]
        # tf.nn.elu, then (alpha != 1) alpha times its negative part
        e = np.expm1(np.minimum(x, 0))
        if c.a["alpha"] != 1:
            e *= np.asarray(c.a["alpha"], x.dtype)
        return [np.where(x > 0, x, e)], (x if c.keep else None)


def softmax_axes(c: KernelCall, x) -> tuple:
    """The softmax's axes of the whole array (the batch is 0), from the registry's shape rule."""
    return tuple(i + 1 for i in LAYERS["Softmax"].axes(c.a, TensorType("float32", x.shape[1:])))


@KERNELS.register("Softmax")
class Softmax(Kernel):
    def forward(self, c: KernelCall, xs):
        x = xs[0]
        axes = softmax_axes(c, x)
        e = np.exp(x - x.max(axis=axes, keepdims=True))
        y = e / e.sum(axis=axes, keepdims=True)
        return [y], (x if c.keep else None)  # the logits a cross-entropy may read (backprop.py)


@KERNELS.register("PReLU")
class PReLU(Kernel):
    def forward(self, c: KernelCall, xs):
        x = xs[0]
        # Keras: relu(x) - alpha * relu(-x), alpha broadcast over the shared axes
        return [np.maximum(x, 0) - c.w["alpha"] * np.maximum(-x, 0)], (x if c.keep else None)
