"""Keras 3's initializers in torch, drawn in Keras's layout so that fans are Keras's fans.

The random streams are torch's (a ``torch.Generator``), not Keras's: the distributions match,
the draws do not. ``variance_scaling((4, 8), 1.0, "fan_avg", "uniform", generator(0))`` draws a
Dense kernel as Keras's glorot_uniform does (the registry holds each initializer's factors).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

# the standard deviation of a unit normal truncated at +-2: Keras divides by it so that its
# truncated normals keep the requested variance
TRUNCATED_STDDEV = 0.87962566103423978


def generator(seed: int | None) -> torch.Generator | None:
    """A seeded generator, or None (torch's global stream) without a seed."""
    return None if seed is None else torch.Generator().manual_seed(seed)


def fans(shape: tuple) -> tuple[float, float]:
    """Keras's compute_fans: (in, out) for a matrix, the size itself for a vector."""
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
    return shape[-2] * receptive, shape[-1] * receptive


def variance_scaling(shape: tuple, scale: float, mode: str, distribution: str,
                     g: torch.Generator | None) -> torch.Tensor:
    """Keras's VarianceScaling: uniform, or a normal truncated at two standard deviations."""
    fan_in, fan_out = fans(shape)
    scale /= max(1.0, {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode])
    if distribution == "uniform":
        limit = (3.0 * scale) ** 0.5
        return torch.empty(shape).uniform_(-limit, limit, generator=g)
    stddev = scale**0.5 / TRUNCATED_STDDEV
    return nn.init.trunc_normal_(torch.empty(shape), 0.0, stddev, -2 * stddev, 2 * stddev, generator=g)


def random_uniform(shape: tuple, minval: float, maxval: float, g: torch.Generator | None) -> torch.Tensor:
    return torch.empty(shape).uniform_(minval, maxval, generator=g)


def random_normal(shape: tuple, mean: float, stddev: float, g: torch.Generator | None) -> torch.Tensor:
    return torch.empty(shape).normal_(mean, stddev, generator=g)


def truncated_normal(shape: tuple, mean: float, stddev: float, g: torch.Generator | None) -> torch.Tensor:
    """Keras redraws values beyond two standard deviations."""
    return nn.init.trunc_normal_(torch.empty(shape), mean, stddev, mean - 2 * stddev, mean + 2 * stddev,
                                 generator=g)


def orthogonal(shape: tuple, gain: float, g: torch.Generator | None) -> torch.Tensor:
    """Keras's Orthogonal: QR of a normal matrix, signs fixed by diag(R), transposed when wide."""
    rows, cols = int(np.prod(shape[:-1])), shape[-1]
    a = torch.empty(max(rows, cols), min(rows, cols)).normal_(0.0, 1.0, generator=g)
    q, r = torch.linalg.qr(a)
    q = q * torch.sign(torch.diagonal(r))
    if rows < cols:
        q = q.T
    return gain * q.reshape(shape)
