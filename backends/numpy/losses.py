"""Keras 3's losses in NumPy with their gradients (keras/src/losses/losses.py
and keras/src/backend/tensorflow/nn.py), reduced as Keras's default
"sum_over_batch_size": the per-sample values summed, divided by their count.

When a cross-entropy is given probabilities that a sigmoid or softmax just
made, Keras (TensorFlow backend) reads the logits behind them instead of
clipping at 1e-7 (``_get_logits``) -- even with ``from_logits=true``, where it
only warns; the trainer passes those logits as ``logits`` so the numbers match
Keras's exactly.

Each function: ``loss(ref_args, y_true, y_pred, logits=None) -> (per-sample values, d mean / d
y_pred, d mean / d logits)``, one of the two gradients None; ``loss_and_grad`` reduces them, with
Keras's mask weighting for outputs that carry a mask.
"""

from __future__ import annotations

import numpy as np

from spec2net.tables import Table

EPS = 1e-7  # keras.backend.epsilon()
LOSSES = Table("NumPy loss")


def _clip(p):
    inside = (p >= EPS) & (p <= 1 - EPS)  # tf.clip_by_value passes gradient only inside
    return np.clip(p, EPS, 1 - EPS), inside


@LOSSES.register("mean_squared_error")
def mean_squared_error(a, y, p, logits=None):
    d = p - y.astype(p.dtype)
    return np.mean(np.square(d), -1), 2 * d / d.size, None


@LOSSES.register("mean_absolute_error")
def mean_absolute_error(a, y, p, logits=None):
    d = p - y.astype(p.dtype)
    return np.mean(np.abs(d), -1), np.sign(d) / d.size, None


@LOSSES.register("binary_crossentropy")
def binary_crossentropy(a, y, p, logits=None):
    y = y.astype(p.dtype)
    if a.get("label_smoothing"):  # Keras: toward 1/2
        y = y * (1.0 - a["label_smoothing"]) + 0.5 * a["label_smoothing"]
    if a["from_logits"] or logits is not None:
        z = p if logits is None else logits
        value = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))
        g = _sig(z, y)
        return np.mean(value, -1), (g if logits is None else None), (None if logits is None else g)
    pc, inside = _clip(p)
    value = -(y * np.log(pc) + (1 - y) * np.log(1 - pc))
    grad = -(y / pc - (1 - y) / (1 - pc)) * inside / value.size
    return np.mean(value, -1), grad, None


def _sig(z, y):
    return (1 / (1 + np.exp(-z)) - y) / z.size


def _softmax_xent(z, y):
    """Cross-entropy of softmax(z) against distributions y, and d/dz (unreduced count n)."""
    zmax = z.max(-1, keepdims=True)
    e = np.exp(z - zmax)
    s = e.sum(-1, keepdims=True)
    logp = z - zmax - np.log(s)
    value = -(y * logp).sum(-1)
    grad = e / s * y.sum(-1, keepdims=True) - y
    return value, grad


@LOSSES.register("categorical_crossentropy")
def categorical_crossentropy(a, y, p, logits=None):
    y = y.astype(p.dtype)
    if a.get("label_smoothing"):  # Keras: toward 1 / classes
        y = y * (1.0 - a["label_smoothing"]) + a["label_smoothing"] / y.shape[-1]
    if a["from_logits"] or logits is not None:
        value, g = _softmax_xent(p if logits is None else logits, y)
        g = g / value.size
        return value, (g if logits is None else None), (None if logits is None else g)
    s = p.sum(-1, keepdims=True)
    q = p / s
    qc, inside = _clip(q)
    value = -(y * np.log(qc)).sum(-1)
    gq = -y / qc * inside / value.size
    grad = (gq - (gq * q).sum(-1, keepdims=True)) / s  # back through q = p / sum(p)
    return value, grad, None


@LOSSES.register("sparse_categorical_crossentropy")
def sparse_categorical_crossentropy(a, y, p, logits=None):
    y = np.asarray(y)
    if y.ndim == p.ndim and y.shape[-1] == 1:
        y = y[..., 0]
    onehot = np.zeros(p.shape, p.dtype)
    np.put_along_axis(onehot, y.astype(np.int64)[..., None], 1, axis=-1)
    if a["from_logits"] or logits is not None:
        return categorical_crossentropy(a, onehot, p, logits)
    # Keras clips first, then takes softmax(log(p)), i.e. renormalizes the clipped p
    pc, inside = _clip(p)
    value, gz = _softmax_xent(np.log(pc), onehot)
    grad = gz / value.size / pc * inside  # z = log(pc)
    return value, grad, None


@LOSSES.register("huber")
def huber(a, y, p, logits=None):
    e = p - y.astype(p.dtype)
    d = np.asarray(a["delta"], p.dtype)
    small = np.abs(e) <= d
    value = np.where(small, 0.5 * np.square(e), d * np.abs(e) - 0.5 * d * d)
    return np.mean(value, -1), np.where(small, e, d * np.sign(e)) / e.size, None


@LOSSES.register("log_cosh")
def log_cosh(a, y, p, logits=None):
    x = p - y.astype(p.dtype)
    # Keras: x + softplus(-2x) - log(2), whose derivative 1 - 2 sigmoid(-2x) is tanh(x)
    value = x + np.log1p(np.exp(-np.abs(2 * x))) + np.maximum(-2 * x, 0) - np.log(2.0).astype(p.dtype)
    return np.mean(value, -1), np.tanh(x) / x.size, None


@LOSSES.register("kl_divergence")
def kl_divergence(a, y, p, logits=None):
    yc = np.clip(y.astype(p.dtype), EPS, 1)
    inside = (p >= EPS) & (p <= 1)
    pc = np.clip(p, EPS, 1)
    value = (yc * np.log(yc / pc)).sum(-1)
    return value, -yc / pc * inside / value.size, None


@LOSSES.register("poisson")
def poisson(a, y, p, logits=None):
    y = y.astype(p.dtype)
    return np.mean(p - y * np.log(p + EPS), -1), (1 - y / (p + EPS)) / p.size, None


def _signed(y, dtype):
    """Keras's convert_binary_labels_to_hinge: 0/1 labels become -1/1 when the whole batch is 0/1."""
    y = y.astype(dtype)
    return 2 * y - 1 if np.all((y == 0) | (y == 1)) else y


@LOSSES.register("hinge")
def hinge(a, y, p, logits=None):
    y = _signed(y, p.dtype)
    m = 1 - y * p
    # tf.maximum(m, 0) passes the gradient where m >= 0
    return np.mean(np.maximum(m, 0), -1), -y * (m >= 0) / p.size, None


@LOSSES.register("squared_hinge")
def squared_hinge(a, y, p, logits=None):
    y = _signed(y, p.dtype)
    m = np.maximum(1 - y * p, 0)
    return np.mean(np.square(m), -1), -2 * y * m / p.size, None


@LOSSES.register("categorical_hinge")
def categorical_hinge(a, y, p, logits=None):
    y = y.astype(p.dtype)
    neg_in = (1 - y) * p
    neg = neg_in.max(-1, keepdims=True)
    ties = (neg_in == neg).astype(p.dtype)  # tf.reduce_max shares its gradient among tied maxima
    pre = neg[..., 0] - (y * p).sum(-1) + 1
    share = ties / ties.sum(-1, keepdims=True) * (1 - y)
    grad = (share - y) * (pre >= 0)[..., None] / pre.size
    return np.maximum(pre, 0), grad, None


def _unit(x, axis):
    """Keras's ops.normalize along ``axis``: x * min(rsqrt(sum x^2), 1 / epsilon), and that factor r."""
    s = np.square(x).sum(axis, keepdims=True)
    with np.errstate(divide="ignore"):
        r = np.minimum(1 / np.sqrt(s), 1 / EPS).astype(x.dtype)
    return x * r, r


@LOSSES.register("cosine_similarity")
def cosine_similarity(a, y, p, logits=None):
    axis = a["axis"]
    yn, _ = _unit(y.astype(p.dtype), axis)
    pn, r = _unit(p, axis)
    value = -(yn * pn).sum(axis)
    # d pn / d p = r (I - pn pn^T) while rsqrt is the smaller; a constant factor 1/epsilon otherwise
    free = r < 1 / np.asarray(EPS, p.dtype)
    grad = -r * (yn - np.where(free, pn * (yn * pn).sum(axis, keepdims=True), 0))
    return value, grad / value.size, None


@LOSSES.register("mean_absolute_percentage_error")
def mean_absolute_percentage_error(a, y, p, logits=None):
    y = y.astype(p.dtype)
    scale = np.maximum(np.abs(y), EPS)
    d = (y - p) / scale
    return 100 * np.mean(np.abs(d), -1), -100 * np.sign(d) / scale / p.size, None


@LOSSES.register("mean_squared_logarithmic_error")
def mean_squared_logarithmic_error(a, y, p, logits=None):
    y = y.astype(p.dtype)
    pm = np.maximum(p, EPS)
    d = np.log(pm + 1) - np.log(np.maximum(y, EPS) + 1)
    # tf.maximum(p, eps) passes the gradient where p >= eps
    return np.mean(np.square(d), -1), 2 * d / (pm + 1) * (p >= EPS) / p.size, None


def loss_and_grad(ref, y, p, logits=None, mask=None):
    """The reduced loss and its gradients: ``loss_and_grad(Ref("loss", "mse"), y, p)``.

    With a ``mask`` (the output's Keras mask, one bool per per-sample value) the
    values are weighted as Keras's ``apply_mask``: masked ones by zero, the rest by
    count / valid, so the loss is the mean over the valid values.
    """
    values, gp, gl = LOSSES[ref.name](ref.kwargs, y, p, logits)
    if mask is None:
        return float(np.mean(values)), gp, gl
    valid = float(mask.sum())
    weight = np.where(mask, values.size / valid if valid else 0.0, 0.0).astype(values.dtype)
    g = (gp if gp is not None else gl) * weight[..., None]
    return float(np.mean(values * weight)), (g if gp is not None else None), (g if gl is not None else None)
