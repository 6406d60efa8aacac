"""Keras 3's metrics in torch, accumulated as Keras's MeanMetricWrapper does: the mean of every
per-sample value seen, the values of masked steps left out (Keras weighs them 0)."""

from __future__ import annotations

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


Metric = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
# Keras's metric name -> the per-sample values
METRICS: dict[str, Metric] = {
    "binary_accuracy": binary_accuracy, "categorical_accuracy": categorical_accuracy,
    "sparse_categorical_accuracy": sparse_categorical_accuracy, "mean_squared_error": squared_errors,
    "mean_absolute_error": absolute_errors,
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
        if mask is not None and mask.shape == values.shape:
            values = values[mask]
        self.total += float(values.sum())
        self.count += values.numel()

    def result(self) -> float:
        return self.total / self.count if self.count else 0.0
