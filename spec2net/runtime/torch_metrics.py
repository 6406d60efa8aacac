"""Keras 3's metrics in torch, accumulated as Keras's MeanMetricWrapper does: the mean of every
per-sample value seen, the values of masked steps left out (Keras weighs them 0); the stateful
ones (precision, recall, auc, root_mean_squared_error) from the counts or sums they keep.
``tracker(metric, y_true, y_pred)`` makes one epoch's accumulator for a metric of a Training.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from .torch_losses import same_rank


def binary_accuracy(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    y_true, y_pred = same_rank(y_true, y_pred)
    return (y_true == (y_pred > 0.5).to(y_true.dtype)).float()


def categorical_accuracy(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    return (y_true.argmax(-1) == y_pred.argmax(-1)).float()


def sparse_categorical_accuracy(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    if y_true.dim() == y_pred.dim() and y_true.shape[-1] == 1:
        y_true = y_true.squeeze(-1)
    return (y_true.long() == y_pred.argmax(-1)).float()


def squared_errors(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """Keras's mean_squared_error metric: per sample, the mean over the last axis."""
    y_true, y_pred = same_rank(y_true, y_pred)
    return (y_pred - y_true).square().mean(-1)


def absolute_errors(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """Keras's mean_absolute_error metric: per sample, the mean over the last axis."""
    y_true, y_pred = same_rank(y_true, y_pred)
    return (y_pred - y_true).abs().mean(-1)


def _in_top_k(ids: torch.Tensor, y_pred: torch.Tensor, k: int) -> torch.Tensor:
    """tf.math.in_top_k: fewer than k scores beat the target's (ties count as in), per target id."""
    scores = y_pred.reshape(-1, y_pred.shape[-1])
    target = scores.gather(-1, ids.reshape(-1, 1).long())
    return (((scores > target).sum(-1) < k) & torch.isfinite(target[:, 0])).reshape(ids.shape).float()


def top_k_categorical_accuracy(y_true: torch.Tensor, y_pred: torch.Tensor, k: int = 5) -> torch.Tensor:
    return _in_top_k(y_true.argmax(-1), y_pred, k)


def sparse_top_k_categorical_accuracy(y_true: torch.Tensor, y_pred: torch.Tensor, k: int = 5) -> torch.Tensor:
    return _in_top_k(y_true, y_pred, k)


def _flat(y_true: torch.Tensor, y_pred: torch.Tensor):
    """Targets and predictions, ranks aligned, flat. The stateful metrics count masked steps too:
    only Keras's MeanMetricWrapper reads the output's mask."""
    y_true, y_pred = same_rank(y_true, y_pred)
    return y_true.detach().reshape(-1).float(), y_pred.detach().reshape(-1).float()


class RootMeanSquaredError:
    """Keras's RootMeanSquaredError: the root of the mean of every squared error (not per sample)."""

    def __init__(self) -> None:
        self.total, self.count = 0.0, 0

    def update(self, y_true: torch.Tensor, y_pred: torch.Tensor, mask: torch.Tensor | None = None) -> None:
        y_true, y_pred = _flat(y_true, y_pred)
        self.total += float((y_pred - y_true).square().double().sum())
        self.count += y_pred.numel()

    def result(self) -> float:
        return math.sqrt(self.total / self.count) if self.count else 0.0


class _Confusion:
    """Confusion counts per threshold over every value seen, as Keras's confusion metrics keep them:
    positive where the prediction lies above the threshold (0.5), true where the target is nonzero."""

    def __init__(self) -> None:
        self.tp = self.fp = self.tn = self.fn = 0

    def positive(self, y_pred: torch.Tensor) -> torch.Tensor:  # (values, thresholds) bools
        return y_pred[:, None] > 0.5

    def update(self, y_true: torch.Tensor, y_pred: torch.Tensor, mask: torch.Tensor | None = None) -> None:
        y_true, y_pred = _flat(y_true, y_pred)
        pos, true = self.positive(y_pred), (y_true != 0)[:, None]
        self.tp = self.tp + (pos & true).sum(0).double()
        self.fp = self.fp + (pos & ~true).sum(0).double()
        self.tn = self.tn + (~pos & ~true).sum(0).double()
        self.fn = self.fn + (~pos & true).sum(0).double()


def _ratio(a, b) -> torch.Tensor:
    """Keras's divide_no_nan: 0 where the denominator is 0."""
    a, b = torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64)
    return torch.where(b != 0, a / torch.where(b != 0, b, torch.ones_like(b)), torch.zeros_like(a))


class Precision(_Confusion):
    def result(self) -> float:
        return float(_ratio(self.tp, self.tp + self.fp).sum())


class Recall(_Confusion):
    def result(self) -> float:
        return float(_ratio(self.tp, self.tp + self.fn).sum())


class AUC(_Confusion):
    """Keras's AUC (ROC, interpolation): values counted into ``num_thresholds`` buckets as Keras counts
    them (ceil(p * (n - 1)) - 1 after clipping p to [0, 1]), the area summed by trapezoids."""

    def __init__(self, num_thresholds: int = 200) -> None:
        super().__init__()
        self.n = num_thresholds

    def positive(self, y_pred: torch.Tensor) -> torch.Tensor:
        bucket = (torch.ceil(y_pred.clamp(0, 1) * float(self.n - 1)) - 1).clamp(min=0).long()
        return bucket[:, None] >= torch.arange(self.n)[None, :]

    def result(self) -> float:
        tpr, fpr = _ratio(self.tp, self.tp + self.fn), _ratio(self.fp, self.fp + self.tn)
        return float(((fpr[:-1] - fpr[1:]) * (tpr[:-1] + tpr[1:]) / 2).sum())


Metric = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
# Keras's metric name -> the per-sample values, or the class of a stateful metric
METRICS: dict[str, Metric | type] = {
    "binary_accuracy": binary_accuracy, "categorical_accuracy": categorical_accuracy,
    "sparse_categorical_accuracy": sparse_categorical_accuracy, "mean_squared_error": squared_errors,
    "mean_absolute_error": absolute_errors, "top_k_categorical_accuracy": top_k_categorical_accuracy,
    "sparse_top_k_categorical_accuracy": sparse_top_k_categorical_accuracy,
    "root_mean_squared_error": RootMeanSquaredError, "precision": Precision, "recall": Recall, "auc": AUC,
}


def resolve(name: str, y_true: torch.Tensor, y_pred: torch.Tensor) -> Metric:
    """Keras's choice for "accuracy" (trainers/compile_utils.py): binary for one unit, sparse for
    class ids (a lower rank, or a last axis of 1 against several units), else categorical."""
    if name != "accuracy":
        return METRICS[name]
    if y_pred.shape[-1] == 1:
        return binary_accuracy
    if y_true.dim() < y_pred.dim() or (y_true.shape[-1] == 1 and y_pred.shape[-1] > 1):
        return sparse_categorical_accuracy
    return categorical_accuracy


def accuracy(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """Keras's "accuracy": the binary, sparse or categorical one, as ``resolve`` picks it."""
    return resolve("accuracy", y_true, y_pred)(y_true, y_pred)


METRICS["accuracy"] = accuracy  # listed, so a table lookup finds every name the registry has


class Mean:
    """A running mean: ``update(values)`` counts each value once, ``update(value, weight=n)``
    counts one value for ``n`` samples (Keras's loss tracker)."""

    def __init__(self) -> None:
        self.total, self.count = 0.0, 0.0

    def update(self, values: torch.Tensor, weight: float | None = None,
               mask: torch.Tensor | None = None) -> None:
        values = values.detach().double()
        if weight is not None:
            self.total += float(values) * weight
            self.count += weight
            return
        # a per-step mask over per-element values (binary_accuracy of several units): Keras
        # broadcasts it over the last axis
        if mask is not None and values.shape[:mask.dim()] == mask.shape:
            values = values[mask]
        self.total += float(values.sum())
        self.count += values.numel()

    def result(self) -> float:
        return self.total / self.count if self.count else 0.0


class MeanOf:
    """Keras's MeanMetricWrapper over a per-sample metric, its arguments bound; masked values left out."""

    def __init__(self, fn: Metric, kwargs: dict) -> None:
        self.fn, self.kwargs, self.mean = fn, kwargs, Mean()

    def update(self, y_true: torch.Tensor, y_pred: torch.Tensor, mask: torch.Tensor | None = None) -> None:
        self.mean.update(self.fn(y_true, y_pred.detach(), **self.kwargs), mask=mask)

    def result(self) -> float:
        return self.mean.result()


def metric_key(metric) -> str:
    """The history key of a Training's metric: ``"auc"``, or the spelling in ``(key, name, args)``."""
    return metric if isinstance(metric, str) else metric[0]


def tracker(metric, y_true: torch.Tensor, y_pred: torch.Tensor):
    """One epoch's accumulator: ``update(y_true, y_pred, mask)``, ``result()``. ``metric`` is a Keras
    name, or ``(history key, name, {argument: value})`` where the spec spells it otherwise or
    changes an argument: ``tracker(("top_k", "top_k_categorical_accuracy", {"k": 2}), y, p)``."""
    name, kwargs = (metric, {}) if isinstance(metric, str) else metric[1:]
    entry = resolve(name, y_true, y_pred)
    return entry(**kwargs) if isinstance(entry, type) else MeanOf(entry, kwargs)
