"""Keras 3's losses in torch, reduction "sum_over_batch_size" (the mean of the per-sample
values), each on targets aligned to the prediction's rank first, as Keras's
``squeeze_or_expand_to_same_rank`` (keras/src/losses/loss.py) aligns them.

Like Keras on TensorFlow, a cross-entropy over an output made by a sigmoid or softmax is
computed from the logits under it; the model keeps them on its output tensor as
``sigmoid_logits``/``softmax_logits``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

EPSILON = 1e-7  # Keras's backend.epsilon(): where probabilities are clipped


def same_rank(y_true: torch.Tensor, y_pred: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Keras's squeeze_or_expand_to_same_rank: where the ranks differ by one and the longer has a
    last axis of 1, a rank-1 tensor gets that axis and any other loses it.

    >>> [tuple(t.shape) for t in same_rank(torch.zeros(4), torch.zeros(4, 1))]
    [(4, 1), (4, 1)]
    """
    if y_true.dim() == y_pred.dim() + 1 and y_true.shape[-1] == 1:
        if y_pred.dim() == 1:
            y_pred = y_pred.unsqueeze(-1)
        else:
            y_true = y_true.squeeze(-1)
    elif y_pred.dim() == y_true.dim() + 1 and y_pred.shape[-1] == 1:
        if y_true.dim() == 1:
            y_true = y_true.unsqueeze(-1)
        else:
            y_pred = y_pred.squeeze(-1)
    return y_true, y_pred


def _logits(y_pred: torch.Tensor, activation: str, from_logits: bool) -> torch.Tensor | None:
    return y_pred if from_logits else getattr(y_pred, activation + "_logits", None)


def mean_squared_error(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """Keras's MSE: the mean over the last axis, then over the batch."""
    y_true, y_pred = same_rank(y_true, y_pred)
    return (y_true - y_pred).square().mean(-1).mean()


def mean_absolute_error(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    y_true, y_pred = same_rank(y_true, y_pred)
    return (y_true - y_pred).abs().mean(-1).mean()


def binary_crossentropy(y_true: torch.Tensor, y_pred: torch.Tensor,
                        from_logits: bool = False, label_smoothing: float = 0.0) -> torch.Tensor:
    """From the logits under a sigmoid output, else from probabilities clipped to [1e-7, 1 - 1e-7]."""
    y_true = _smoothed(y_true, label_smoothing, 2.0)
    logits = _logits(y_pred, "sigmoid", from_logits)
    y_true, y_pred = same_rank(y_true, y_pred if logits is None else logits)
    if logits is not None:
        values = F.binary_cross_entropy_with_logits(y_pred, y_true, reduction="none")
    else:
        p = y_pred.clamp(EPSILON, 1 - EPSILON)
        values = -(y_true * torch.log(p) + (1 - y_true) * torch.log(1 - p))
    return values.mean(-1).mean()


def categorical_crossentropy(y_true: torch.Tensor, y_pred: torch.Tensor,
                             from_logits: bool = False, label_smoothing: float = 0.0) -> torch.Tensor:
    """From the logits under a softmax output, else from the probabilities renormalised to sum 1
    and clipped to [1e-7, 1 - 1e-7]."""
    y_true = _smoothed(y_true, label_smoothing, float(y_true.shape[-1]))
    logits = _logits(y_pred, "softmax", from_logits)
    if logits is not None:
        return -(y_true * torch.log_softmax(logits, -1)).sum(-1).mean()
    p = (y_pred / y_pred.sum(-1, keepdim=True)).clamp(EPSILON, 1 - EPSILON)
    return -(y_true * torch.log(p)).sum(-1).mean()


def sparse_categorical_crossentropy(y_true: torch.Tensor, y_pred: torch.Tensor,
                                    from_logits: bool = False) -> torch.Tensor:
    """Class ids against probabilities (clipped, their logs taken as logits, as Keras does) or
    logits; a trailing target axis of size 1 is dropped."""
    if y_true.dim() == y_pred.dim() and y_true.shape[-1] == 1:
        y_true = y_true.squeeze(-1)
    logits = _logits(y_pred, "softmax", from_logits)
    if logits is None:
        logits = torch.log(y_pred.clamp(EPSILON, 1 - EPSILON))
    log_p = torch.log_softmax(logits, -1)
    return -log_p.gather(-1, y_true.long().unsqueeze(-1)).squeeze(-1).mean()


def _smoothed(y_true: torch.Tensor, label_smoothing: float, classes: float) -> torch.Tensor:
    """Keras's label smoothing: targets pulled toward 1 / classes (1/2 for binary cross-entropy)."""
    return y_true * (1.0 - label_smoothing) + label_smoothing / classes if label_smoothing else y_true


def huber(y_true: torch.Tensor, y_pred: torch.Tensor, delta: float = 1.0) -> torch.Tensor:
    """Quadratic within ``delta`` of the target, linear beyond."""
    y_true, y_pred = same_rank(y_true, y_pred)
    error = y_pred - y_true
    small = error.abs() <= delta
    return torch.where(small, 0.5 * error.square(), delta * error.abs() - 0.5 * delta**2).mean(-1).mean()


def log_cosh(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """Keras's form x + softplus(-2x) - log(2), which does not overflow."""
    y_true, y_pred = same_rank(y_true, y_pred)
    x = y_pred - y_true
    return (x + F.softplus(-2.0 * x) - math.log(2.0)).mean(-1).mean()


def kl_divergence(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """Both sides clipped to [1e-7, 1], summed over the last axis."""
    y_true, y_pred = y_true.clamp(EPSILON, 1), y_pred.clamp(EPSILON, 1)
    return (y_true * torch.log(y_true / y_pred)).sum(-1).mean()


def poisson(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    return (y_pred - y_true * torch.log(y_pred + EPSILON)).mean(-1).mean()


def _signed(y_true: torch.Tensor) -> torch.Tensor:
    """Keras's convert_binary_labels_to_hinge: 0/1 labels become -1/1 only when the whole batch is 0/1."""
    return 2.0 * y_true - 1.0 if ((y_true == 0) | (y_true == 1)).all() else y_true


def hinge(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    # clamp, not relu: its gradient passes at 0 as tf.maximum's does
    return (1.0 - _signed(y_true) * y_pred).clamp(min=0).mean(-1).mean()


def squared_hinge(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    return (1.0 - _signed(y_true) * y_pred).clamp(min=0).square().mean(-1).mean()


def categorical_hinge(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """max(1 + the best wrong score - the true score, 0); amax shares its gradient among tied
    maxima as tf.reduce_max does."""
    pos = (y_true * y_pred).sum(-1)
    neg = ((1.0 - y_true) * y_pred).amax(-1)
    return (neg - pos + 1.0).clamp(min=0).mean()


def _unit(x: torch.Tensor, axis: int) -> torch.Tensor:
    """Keras's ops.normalize: x * min(rsqrt(sum x^2), 1 / epsilon)."""
    return x * torch.rsqrt(x.square().sum(axis, keepdim=True)).clamp(max=1 / EPSILON)


def cosine_similarity(y_true: torch.Tensor, y_pred: torch.Tensor, axis: int = -1) -> torch.Tensor:
    """Minus the cosine of the angle between target and prediction along ``axis``."""
    y_true, y_pred = same_rank(y_true, y_pred)
    return -(_unit(y_true, axis) * _unit(y_pred, axis)).sum(axis).mean()


def mean_absolute_percentage_error(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """100 |y - p| / max(|y|, 1e-7)."""
    y_true, y_pred = same_rank(y_true, y_pred)
    return (100.0 * ((y_true - y_pred) / y_true.abs().clamp(min=EPSILON)).abs().mean(-1)).mean()


def mean_squared_logarithmic_error(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """Both sides floored at 1e-7 (clamp passes the gradient at the floor, as tf.maximum does)."""
    y_true, y_pred = same_rank(y_true, y_pred)
    diff = torch.log(y_pred.clamp(min=EPSILON) + 1.0) - torch.log(y_true.clamp(min=EPSILON) + 1.0)
    return diff.square().mean(-1).mean()


Loss = Callable[..., torch.Tensor]
LOSSES: dict[str, Loss] = {f.__name__: f for f in (
    mean_squared_error, mean_absolute_error, binary_crossentropy, categorical_crossentropy,
    sparse_categorical_crossentropy, huber, log_cosh, kl_divergence, poisson, hinge, squared_hinge,
    categorical_hinge, cosine_similarity, mean_absolute_percentage_error, mean_squared_logarithmic_error)}


def masked_loss(loss: Loss, y_true: torch.Tensor, y_pred: torch.Tensor, **kwargs) -> torch.Tensor:
    """``loss`` over an output that may carry a Keras mask (``keras_mask``, one bool per value):
    Keras's apply_mask for sum_over_batch_size weighs masked values 0 and the others
    total / valid, so the loss is the mean over the unmasked values; 0 where there are none."""
    mask = getattr(y_pred, "keras_mask", None)
    if mask is None:
        return loss(y_true, y_pred, **kwargs)
    if not mask.any():  # Keras's divide_no_nan(total, valid)
        return y_pred.sum() * 0.0
    kept = y_pred[mask]
    for name in ("sigmoid_logits", "softmax_logits"):  # the logits the loss may read, kept alike
        logits = getattr(y_pred, name, None)
        if logits is not None:
            setattr(kept, name, logits[mask])
    return loss(y_true[mask], kept, **kwargs)


def regularization(tensors: list, l1: float = 0.0, l2: float = 0.0) -> torch.Tensor | float:
    """Keras's L1L2 penalty over the torch tensors of one Keras weight: l1 * sum(|w|) + l2 * sum(w ** 2)
    (no 1/2); a zero factor adds no term, as in Keras."""
    total: torch.Tensor | float = 0.0
    for t in tensors:
        if l1:
            total = total + l1 * t.abs().sum()
        if l2:
            total = total + l2 * t.square().sum()
    return total
