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
