"""Keras 3's layers where torch's differ: batch and layer normalization, dropout with a
``noise_shape``, recurrent dropout masks, Embedding gradients as Keras's optimizers see them,
and the container that holds a model's layers whatever their names."""

from __future__ import annotations

import torch
from torch import nn


class LayerDict(nn.ModuleDict):
    """The model's layers keyed by name, as an ``nn.ModuleDict`` but safe for any name.

    ``nn.ModuleDict`` refuses a key that is also an attribute (``forward``, ``keys``, ``to_empty``);
    these keys are only ever looked up as items (``self.layers["forward"]``), never as attributes,
    so they are stored directly and no torch version's method names can collide with them.
    """

    def __init__(self, layers: dict[str, nn.Module]):
        super().__init__()
        for key, module in layers.items():
            if not key or "." in key:  # a "." would split the state_dict path
                raise KeyError(f"layer key {key!r}: expected a non-empty name without '.'")
            self._modules[key] = module


class KerasBatchNorm(nn.Module):
    """Keras's BatchNormalization: batch statistics in training, moving ones at inference.

    The moving variance takes the biased batch variance (torch's BatchNorm takes the
    unbiased one), and momentum is Keras's: moving = moving * momentum + batch * (1 - momentum).
    ``reduce_dims`` are the dims averaged over; ``view`` reshapes a parameter to broadcast.
    """

    def __init__(self, shape: tuple, reduce_dims: tuple, view: tuple, momentum: float = 0.99,
                 epsilon: float = 1e-3, center: bool = True, scale: bool = True):
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(shape)) if scale else None
        self.beta = nn.Parameter(torch.zeros(shape)) if center else None
        self.register_buffer("moving_mean", torch.zeros(shape))
        self.register_buffer("moving_variance", torch.ones(shape))
        self.reduce_dims, self.view, self.momentum, self.epsilon = reduce_dims, view, momentum, epsilon

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return self.normalize(x, self.moving_mean, self.moving_variance)
        mean = x.mean(self.reduce_dims)
        variance = (x - mean.detach().view(self.view)).square().mean(self.reduce_dims)
        self.follow(mean, variance)
        return self.normalize(x, mean, variance)

    def follow(self, mean: torch.Tensor, variance: torch.Tensor) -> None:
        """Move the moving statistics towards this batch's, with Keras's momentum."""
        with torch.no_grad():
            m = self.momentum
            self.moving_mean.copy_(self.moving_mean * m + mean * (1.0 - m))
            self.moving_variance.copy_(self.moving_variance * m + variance * (1.0 - m))

    def normalize(self, x: torch.Tensor, mean: torch.Tensor, variance: torch.Tensor) -> torch.Tensor:
        # tf.nn.batch_normalization's arithmetic: x * inv + (beta - mean * inv)
        inv = torch.rsqrt(variance + self.epsilon)
        if self.gamma is not None:
            inv = inv * self.gamma
        shift = -mean * inv if self.beta is None else self.beta - mean * inv
        return x * inv.view(self.view) + shift.view(self.view)


class KerasMaskedBatchNorm(KerasBatchNorm):
    """KerasBatchNorm for an input that may carry a Keras mask: in training, Keras weighs the
    batch moments by the mask (BatchNormalization._moments): masked entries count nothing,
    the count gets Keras's epsilon 1e-7, and the moving statistics follow these moments."""

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        if mask is None or not self.training:
            return super().forward(x)
        # the mask has no feature axis: (batch, steps) for (batch, steps, features)
        keep = mask[..., None].expand_as(x)
        count = keep.to(x.dtype).sum(self.reduce_dims) + 1e-7
        mean = torch.where(keep, x, 0.0).sum(self.reduce_dims) / count
        # no detach here: Keras's masked variance keeps the mean's (tiny) gradient
        variance = torch.where(keep, x - mean.view(self.view), 0.0).square().sum(self.reduce_dims) / count
        self.follow(mean, variance)
        return self.normalize(x, mean, variance)


class KerasLayerNorm(nn.Module):
    """Keras's LayerNormalization over ``axes`` (dims of the whole tensor), biased variance."""

    def __init__(self, shape: tuple, axes: tuple, view: tuple, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True):
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(shape)) if scale else None
        self.beta = nn.Parameter(torch.zeros(shape)) if center else None
        self.axes, self.view, self.epsilon = axes, view, epsilon

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = x.mean(self.axes, keepdim=True)
        variance = (x - mean).square().mean(self.axes, keepdim=True)
        out = (x - mean) * torch.rsqrt(variance + self.epsilon)
        if self.gamma is not None:
            out = out * self.gamma.view(self.view)
        if self.beta is not None:
            out = out + self.beta.view(self.view)
        return out


def single_bias(module: nn.Module) -> None:
    """Keras's LSTM, SimpleRNN and GRU (reset_after=False) have one bias where torch's have two:
    the second, ``bias_hh_l0``, stays zero and out of training (and ``bias_hh_l0_reverse`` of a
    bidirectional module, which holds Bidirectional's backward layer)."""
    module.bias_hh_l0.requires_grad_(False).zero_()
    if getattr(module, "bidirectional", False):
        module.bias_hh_l0_reverse.requires_grad_(False).zero_()


def dropout_noise_shape(x: torch.Tensor, rate: float, noise_shape: tuple, training: bool) -> torch.Tensor:
    """Keras's Dropout with ``noise_shape``: one draw shared along the axes where it is 1.

    As in Keras, ``noise_shape`` counts the batch axis (``(None, 1, 10)`` for a (batch, steps,
    10) input), and a ``None`` takes the input's size on that axis.
    """
    if not training or rate == 0:
        return x
    if len(noise_shape) != x.dim():
        raise ValueError(f"Dropout noise_shape {noise_shape} has {len(noise_shape)} axes; the input has "
                         f"{x.dim()} (batch axis included): {tuple(x.shape)}")
    shape = [d if n is None else n for n, d in zip(noise_shape, x.shape)]
    keep = torch.empty(shape, device=x.device).bernoulli_(1 - rate)
    return x * keep / (1 - rate)


def sequence_dropout(x: torch.Tensor, rate: float, training: bool) -> torch.Tensor:
    """Keras's recurrent ``dropout``: one mask per sequence, the same at every step."""
    if not training:
        return x
    keep = torch.empty(x.shape[0], 1, x.shape[2], device=x.device).bernoulli_(1 - rate)
    return x * keep / (1 - rate)


def dropout_mask(like: torch.Tensor, rate: float, training: bool) -> torch.Tensor | None:
    """Keras's ``recurrent_dropout``: one mask per sequence for the state fed back."""
    if not training:
        return None
    return torch.empty_like(like).bernoulli_(1 - rate) / (1 - rate)


def keep_rows(weight: torch.Tensor, ids: torch.Tensor, out: torch.Tensor) -> None:
    """Record an Embedding's gradient as one row per lookup, as Keras on TensorFlow receives it
    (IndexedSlices): its optimizers clip by value and square those rows before summing them,
    and so does KerasOptimizer when it finds them."""
    if out.requires_grad:
        out.register_hook(lambda grad: weight.__dict__.setdefault("lookup_rows", []).append(
            (ids.reshape(-1), grad.reshape(-1, grad.shape[-1]))))
