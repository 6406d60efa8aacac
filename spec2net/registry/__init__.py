"""One registry entry per layer, activation, initializer, regularizer, optimizer, loss and metric.

Importing this package registers every entry; ``LAYERS`` maps a layer's
name (and alias) to its LayerDef, ``REGISTRIES[kind]`` a function's name
(and alias) to its FuncDef, ``LAYER_INITIALIZERS`` the initializers that only a
layer declares for a parameter (LSTM's ``unit_forget_bias``).

Every fact a backend or test needs lives here, never in a list elsewhere: a
layer's arguments and Keras defaults, shapes, parameters with their initializers,
mask rule (``mask``), comparison tolerance (``tolerance``) and dropout rates
(``dropout_args``, see ``deterministic``); an activation's fixed arguments (the
leaky_relu slope), an initializer's ``variance_scaling``, a loss's ``target`` kind,
``class_axis`` and ``logits_of``.
"""

from . import conv, core, merge, normalization, pooling, recurrent, simple, wrappers  # noqa: F401  (registration)
from .base import LAYERS, LayerDef, ShapeError, canonical_layers, deterministic
from .functions import LAYER_INITIALIZERS, REGISTRIES, FuncDef, canonical

__all__ = ["LAYERS", "LAYER_INITIALIZERS", "REGISTRIES", "FuncDef", "LayerDef", "ShapeError", "canonical",
           "canonical_layers", "deterministic"]
