"""What every kernel shares: the call it receives, the Kernel base class, and tables merged
from the family modules (core, merge, normalization, recurrent) that declare and fill them.

A kernel's ``forward`` returns ``(outputs, cache)``: the cache is what a
backward pass will need (pre-activations, gate values, dropout masks), kept
only when ``call.keep`` asks for it so that plain inference stays lean.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from spec2net import ir
from spec2net.registry import LAYERS
from spec2net.tables import Table


@dataclass
class KernelCall:
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
    """One layer type's forward pass; a family module registers it: ``@KERNELS.register("Dense")``."""

    def forward(self, c: KernelCall, xs: list) -> tuple[list, object]:
        raise NotImplementedError

    def out_masks(self, c: KernelCall, xs: list, masks: list, outs: list) -> list:
        """Keras's ``compute_mask``: by default the (single) input's mask passes on, unless the
        registry says the layer drops it (Flatten, Reshape: Keras's layers without mask support)."""
        return [None if LAYERS[c.layer.type].mask == "drop" else masks[0]] * len(outs)


def merged(what: str, *tables: Table) -> Table:
    """One table holding the entries of the family tables: ``merged("NumPy kernel", core.KERNELS, ...)``."""
    out = Table(what)
    for table in tables:
        for name, entry in table.items():
            out.add(entry, name)
    return out
