"""One registry entry per layer, activation, initializer, regularizer, optimizer, loss and metric.

Importing this package registers every entry; ``LAYERS`` maps a layer's
name (and alias) to its LayerDef, ``REGISTRIES[kind]`` a function's name
(and alias) to its FuncDef.
"""

from . import core, merge, normalization, recurrent  # noqa: F401  (registration)
from .base import LAYERS, LayerDef, ShapeError, canonical_layers
from .functions import REGISTRIES, FuncDef, canonical

__all__ = ["LAYERS", "REGISTRIES", "FuncDef", "LayerDef", "ShapeError", "canonical", "canonical_layers"]
