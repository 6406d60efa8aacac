"""Reverse-mode gradients of the NumPy kernels, one entry per layer type.

Kept beside the forward kernels rather than inside them, as a derivative
table (like PyTorch's derivatives.yaml): ``GRADS[layer.type](c, xs, outs,
cache, gys) -> (gxs, gw)``, where ``cache`` is what the kernel's forward kept
with ``keep=True``, ``gys`` holds one gradient (or None) per output, ``gxs``
one per input (None for integer inputs) and ``gw`` maps param names to
gradients. ``gys.logits`` may hold the loss's gradient with respect to the
pre-activation of a Dense or Activation output (see losses.py). Each family
module declares and fills its own table; ``GRADS`` gathers them.
"""

from ..base import merged
from . import conv, core, merge, normalization, recurrent, simple, wrappers
from .base import Grads
from .core import PRE_ACTIVATION

GRADS = merged("NumPy gradient", core.GRADS, merge.GRADS, normalization.GRADS, recurrent.GRADS, conv.GRADS, simple.GRADS,
               wrappers.GRADS)

__all__ = ["GRADS", "PRE_ACTIVATION", "Grads"]
