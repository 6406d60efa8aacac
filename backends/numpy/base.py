"""The kernel table: one Kernel per layer type, registered by decorator.

A kernel's ``forward`` returns ``(outputs, cache)``: the cache is what a
backward pass will need (pre-activations, gate values, dropout masks), kept
only when ``call.keep`` asks for it so that plain inference stays lean.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from spec2net import ir

KERNELS: dict[str, Kernel] = {}


@dataclass
class Call:
    """Everything one application of a layer sees."""

    layer: ir.Layer
    w: dict  # param name -> array in the run's dtype
    masks: list  # one boolean array or None per input
    training: bool
    dtype: np.dtype
    seed: object  # an int or None; ``rng()`` derives the node's generator from it
    keep: bool = False  # record what a backward pass needs
    updates: dict = field(default_factory=dict)  # param name -> new value (BN moving statistics)

    @property
    def a(self) -> dict:
        return self.layer.args

    def rng(self) -> np.random.Generator:
        return np.random.default_rng(self.seed)


class Kernel:
    """One layer type's forward pass; subclasses register with ``@kernel("Type")``."""

    def forward(self, c: Call, xs: list) -> tuple[list, object]:
        raise NotImplementedError

    def out_masks(self, c: Call, xs: list, masks: list, outs: list) -> list:
        """Keras's ``compute_mask``: by default the (single) input's mask passes on."""
        return [masks[0]] * len(outs)


def kernel(*types: str):
    """Register a Kernel class under layer types: ``@kernel("Dense") class Dense(Kernel): ...``."""

    def wrap(cls):
        for t in types:
            KERNELS[t] = cls()
        return cls

    return wrap


def get_kernel(layer_type: str) -> Kernel:
    """The kernel of a layer type, or an error that lists the known ones: ``get_kernel("Dense")``."""
    try:
        return KERNELS[layer_type]
    except KeyError:
        raise NotImplementedError(f"the NumPy interpreter has no kernel for layer {layer_type!r}; "
                                  f"it has: {', '.join(sorted(KERNELS))}") from None
