"""Dense, Embedding, Dropout, Activation, LeakyReLU, Flatten, Reshape (keras/src/layers/core, ...)."""

from __future__ import annotations

import numpy as np

from spec2net.tables import Table

from .activations import activation
from .base import Kernel, KernelCall

KERNELS = Table("NumPy kernel")


@KERNELS.register("Dense")
class Dense(Kernel):
    """``x @ kernel + bias`` on the last axis of any rank, then the activation."""

    def forward(self, c: KernelCall, xs):
        x = xs[0]
        z = np.matmul(x, c.w["kernel"])
        if c.a["use_bias"]:
            z += c.w["bias"]
        act = activation(c.a["activation"])
        # without a backward pass to feed, the activation may overwrite z in place
        y = act(z) if c.keep else act(z, out=z)
        return [y], ((x, z, y) if c.keep else None)


@KERNELS.register("Embedding")
class Embedding(Kernel):
    def forward(self, c: KernelCall, xs):
        ids = xs[0]
        if not np.issubdtype(ids.dtype, np.integer):
            raise ValueError(f"{c.layer.name}: Embedding needs integer ids, got {ids.dtype}")
        n = c.a["input_dim"]
        if ids.size and (ids.min() < 0 or ids.max() >= n):
            raise ValueError(f"{c.layer.name}: token ids must lie in [0, {n}), got ids from {ids.min()} "
                             f"to {ids.max()}")
        return [np.take(c.w["embeddings"], ids, axis=0)], (ids if c.keep else None)

    def out_masks(self, c, xs, masks, outs):
        return [xs[0] != 0 if c.a["mask_zero"] else None]


@KERNELS.register("Dropout")
class Dropout(Kernel):
    """Inverted dropout: in training, keep each value with probability 1 - rate and scale it by
    1 / (1 - rate); at inference the identity."""

    def forward(self, c: KernelCall, xs):
        x, rate = xs[0], c.a["rate"]
        if not c.training or rate == 0:
            return [x], None
        shape = x.shape if c.a["noise_shape"] is None else c.a["noise_shape"]
        keep = c.rng().random(shape) >= rate
        scale = (keep / (1.0 - rate)).astype(x.dtype)
        return [x * scale], (scale if c.keep else None)


@KERNELS.register("Activation")
class Activation(Kernel):
    def forward(self, c: KernelCall, xs):
        return [activation(c.a["activation"])(xs[0])], (xs[0] if c.keep else None)


@KERNELS.register("LeakyReLU")
class LeakyReLU(Kernel):
    def forward(self, c: KernelCall, xs):
        x = xs[0]
        # tf.nn.leaky_relu: x where x > 0, else slope * x (also right for a slope above 1)
        return [np.where(x > 0, x, c.a["negative_slope"] * x)], (x if c.keep else None)


@KERNELS.register("Flatten")
class Flatten(Kernel):
    def forward(self, c: KernelCall, xs):
        x = xs[0]
        return [x.reshape(x.shape[0], -1)], None


@KERNELS.register("Reshape")
class Reshape(Kernel):
    def forward(self, c: KernelCall, xs):
        x = xs[0]
        return [x.reshape((x.shape[0], *c.a["target_shape"]))], None
