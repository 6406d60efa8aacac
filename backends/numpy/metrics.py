"""Keras 3's metrics in NumPy, accumulated over an epoch as Keras's
MeanMetricWrapper does: the mean of every per-sample value seen so far."""

from __future__ import annotations

import numpy as np

from spec2net.tables import Table

METRICS = Table("NumPy metric")


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
