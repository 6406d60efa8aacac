"""What the gradient families share: the output gradients a node receives, and unbroadcasting."""

from __future__ import annotations


class Grads(list):
    """The gradients of a node's outputs (None where an output gets none), plus ``logits``."""

    logits = None


def unbroadcast(g, shape):
    """Sum ``g`` down to ``shape`` (the inverse of NumPy broadcasting), batch axis included."""
    while g.ndim > len(shape):
        g = g.sum(0)
    axes = tuple(i for i, (a, b) in enumerate(zip(g.shape, shape)) if b == 1 and a != 1)
    return g.sum(axes, keepdims=True) if axes else g
