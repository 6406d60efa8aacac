"""Keras 3's metrics in NumPy, accumulated over an epoch: most as Keras's
MeanMetricWrapper does (the mean of every per-sample value seen so far), the
stateful ones (precision, recall, auc, root_mean_squared_error) from the counts
or sums they keep. ``tracker(ref)`` makes one accumulator for a metric reference.

A table entry is a function ``(y, p, **args) -> per-sample values`` or a class
whose instances ``update(y, p, mask)`` and give ``result()``.
"""

from __future__ import annotations

import functools

import numpy as np

from spec2net.tables import Table

METRICS = Table("NumPy metric", instantiate=False)


def _labels(y, p):
    y = np.asarray(y)
    return y[..., 0] if y.ndim == p.ndim and y.shape[-1] == 1 else y


@METRICS.register("binary_accuracy")
def binary_accuracy(y, p):
    return np.mean(np.asarray(y, p.dtype) == (p > 0.5).astype(p.dtype), axis=-1)


@METRICS.register("categorical_accuracy")
def categorical_accuracy(y, p):
    return (np.argmax(y, -1) == np.argmax(p, -1)).astype(np.float32)


@METRICS.register("sparse_categorical_accuracy")
def sparse_categorical_accuracy(y, p):
    return (_labels(y, p).astype(np.int64) == np.argmax(p, -1)).astype(np.float32)


@METRICS.register("mean_squared_error")
def mean_squared_error(y, p):
    return np.mean(np.square(p - np.asarray(y, p.dtype)), axis=-1)


@METRICS.register("mean_absolute_error")
def mean_absolute_error(y, p):
    return np.mean(np.abs(p - np.asarray(y, p.dtype)), axis=-1)


@METRICS.register("accuracy")
def accuracy(y, p):
    """Keras's choice for "accuracy": binary for one unit, sparse for integer labels, else categorical."""
    y = np.asarray(y)
    if p.shape[-1] == 1:
        return binary_accuracy(y, p)
    if y.ndim < p.ndim or (y.shape[-1] == 1 and p.shape[-1] > 1):
        return sparse_categorical_accuracy(y, p)
    return categorical_accuracy(y, p)


def _in_top_k(ids, p, k):
    """tf.math.in_top_k: the target's score is beaten by fewer than k others (ties count as in)."""
    p = p.reshape(-1, p.shape[-1])
    ids = ids.reshape(-1).astype(np.int64)
    target = np.take_along_axis(p, ids[:, None], -1)
    return ((p > target).sum(-1) < k) & np.isfinite(target[:, 0])


@METRICS.register("top_k_categorical_accuracy")
def top_k_categorical_accuracy(y, p, k):
    ids = np.argmax(y, -1)
    return _in_top_k(ids, p, k).reshape(ids.shape).astype(np.float32)


@METRICS.register("sparse_top_k_categorical_accuracy")
def sparse_top_k_categorical_accuracy(y, p, k):
    ids = np.asarray(y)
    return _in_top_k(ids, p, k).reshape(ids.shape).astype(np.float32)


def _same_rank(y, p):
    """Targets against predictions as Keras's squeeze_or_expand_to_same_rank leaves them (flattened)."""
    y = np.asarray(y, np.float32)
    if y.ndim == p.ndim + 1 and y.shape[-1] == 1:
        y = y[..., 0]
    elif p.ndim == y.ndim + 1 and p.shape[-1] == 1:
        p = p[..., 0]
    return y, p.astype(np.float32)


def _flat(y, p):
    """Targets and predictions, flat. The stateful metrics count masked steps too: only Keras's
    MeanMetricWrapper reads the output's mask (keras/src/metrics/reduction_metrics.py)."""
    y, p = _same_rank(y, p)
    return y.reshape(-1), p.reshape(-1)


@METRICS.register("root_mean_squared_error")
class RootMeanSquaredError:
    """Keras's RootMeanSquaredError: the root of the mean of every squared error (not per sample)."""

    def __init__(self):
        self.total, self.count = 0.0, 0

    def update(self, y, p, mask=None):
        y, p = _flat(y, p)
        self.total += float(np.square(p - y).astype(np.float64).sum())
        self.count += p.size

    def result(self) -> float:
        return float(np.sqrt(self.total / self.count)) if self.count else 0.0


class _Confusion:
    """Confusion counts per threshold over every value seen, as Keras's confusion metrics keep them:
    a value is positive where its prediction lies above the threshold; a target is true where nonzero."""

    def __init__(self):
        self.tp = self.fp = self.tn = self.fn = 0.0

    def positive(self, p):  # (values, thresholds) bools
        return p[:, None] > 0.5

    def update(self, y, p, mask=None):
        y, p = _flat(y, p)
        pos, true = self.positive(p), (y != 0)[:, None]
        self.tp = self.tp + (pos & true).sum(0)
        self.fp = self.fp + (pos & ~true).sum(0)
        self.tn = self.tn + (~pos & ~true).sum(0)
        self.fn = self.fn + (~pos & true).sum(0)


def _ratio(a, b):
    """Keras's divide_no_nan: 0 where the denominator is 0."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return np.divide(a, b, out=np.zeros_like(a), where=b != 0)


@METRICS.register("precision")
class Precision(_Confusion):
    def result(self) -> float:
        return float(_ratio(self.tp, self.tp + self.fp).sum())


@METRICS.register("recall")
class Recall(_Confusion):
    def result(self) -> float:
        return float(_ratio(self.tp, self.tp + self.fn).sum())


@METRICS.register("auc")
class AUC(_Confusion):
    """Keras's AUC (ROC curve, interpolation): ``num_thresholds`` evenly spaced thresholds, counted by
    Keras's bucketing (ceil(p * (n - 1)) - 1 after clipping p to [0, 1]); the area by trapezoids."""

    def __init__(self, num_thresholds=200):
        super().__init__()
        self.n = num_thresholds

    def positive(self, p):
        p = np.clip(p, 0, 1).astype(np.float32)
        bucket = np.maximum(np.ceil(p * np.float32(self.n - 1)) - 1, 0).astype(np.int64)
        return bucket[:, None] >= np.arange(self.n)[None, :]

    def result(self) -> float:
        tpr = _ratio(self.tp, self.tp + self.fn)
        fpr = _ratio(self.fp, self.fp + self.tn)
        return float(((fpr[:-1] - fpr[1:]) * (tpr[:-1] + tpr[1:]) / 2).sum())


class MeanOf:
    """Keras's MeanMetricWrapper over a per-sample metric function; masked values left out."""

    def __init__(self, fn):
        self.fn, self.mean = fn, Mean()

    def update(self, y, p, mask=None):
        values = self.fn(y, p)
        self.mean.update(values if mask is None else values[mask])

    def result(self) -> float:
        return self.mean.result()


def tracker(ref):
    """The epoch accumulator of a metric reference: ``m = tracker(Ref("metric", "auc", (("num_thresholds", 200),)))``,
    then ``m.update(y, p, mask)`` per batch and ``m.result()``."""
    entry = METRICS[ref.name]
    if isinstance(entry, type):
        return entry(**ref.kwargs)
    return MeanOf(functools.partial(entry, **ref.kwargs) if ref.args else entry)


class Mean:
    """A running mean over every value passed to ``update``: ``m.update([1, 0]); m.result() -> 0.5``."""

    def __init__(self):
        self.total, self.count = 0.0, 0

    def update(self, values, weight=None):
        values = np.asarray(values, np.float64)
        if weight is None:
            self.total += float(values.sum())
            self.count += values.size
        else:  # one value standing for `weight` samples (Keras's loss tracker)
            self.total += float(values) * weight
            self.count += weight

    def result(self) -> float:
        return self.total / self.count if self.count else 0.0
