"""Gradients of Dense, Embedding, Dropout, Activation, LeakyReLU, Flatten, Reshape."""

from __future__ import annotations

import numpy as np

from spec2net.tables import Table

from ..sparse import SparseRows
from .activations import act_grad

GRADS = Table("NumPy gradient")
# layer type -> its forward cache's pre-activation: the logits a loss may read (losses.py)
PRE_ACTIVATION = Table("pre-activation reader")


@GRADS.register("Dense")
def dense(c, xs, outs, cache, gys):
    x, z, y = cache
    gz = _through(c.a["activation"], z, y, gys)
    n_in, n_out = c.w["kernel"].shape
    gw = {"kernel": x.reshape(-1, n_in).T @ gz.reshape(-1, n_out)}
    if c.a["use_bias"]:
        gw["bias"] = gz.reshape(-1, n_out).sum(0)
    return [gz @ c.w["kernel"].T], gw


PRE_ACTIVATION.add(lambda cache: cache[1], "Dense")  # its cache is (x, z, y)
PRE_ACTIVATION.add(lambda cache: cache, "Activation")  # its cache is x


@GRADS.register("Embedding")
def embedding(c, xs, outs, cache, gys):
    ids, table = cache, c.w["embeddings"]
    # one row per occurrence, summed only when needed: see sparse.py for why
    return [None], {"embeddings": SparseRows(ids.ravel(), gys[0].reshape(-1, table.shape[1]), table.shape)}


@GRADS.register("Dropout")
def dropout(c, xs, outs, cache, gys):
    return [gys[0] if cache is None else gys[0] * cache], {}


@GRADS.register("Activation")
def activation(c, xs, outs, cache, gys):
    return [_through(c.a["activation"], cache, outs[0], gys)], {}


def _through(act, z, y, gys):
    """d/dz: through the activation from the output's gradient, plus any gradient the loss
    gave the logits directly (see losses.py)."""
    g = None if gys[0] is None else act_grad(act, z, y, gys[0])
    if gys.logits is not None:
        g = gys.logits if g is None else g + gys.logits
    return g


@GRADS.register("LeakyReLU")
def leaky_relu(c, xs, outs, cache, gys):
    return [np.where(cache > 0, gys[0], c.a["negative_slope"] * gys[0])], {}


@GRADS.register("Flatten", "Reshape")
def reshape(c, xs, outs, cache, gys):
    return [gys[0].reshape(xs[0].shape)], {}
