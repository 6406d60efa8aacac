"""The Keras backend: a spec's IR -> a standalone, readable Keras 3 functional module.

>>> import spec2net
>>> print(spec2net.load("examples/mlp.net").build("keras"))  # doctest: +SKIP

The module imports only ``keras`` and ``numpy`` and holds ``build_model()``,
``load_weights(model, path)``, ``save_weights(model, path)``, and, where the spec has them,
``compile_model(model)`` and ``FIT``; docs/keras.md describes it.
"""

from .emitters import EMITTERS
from .source import build_source

__all__ = ["EMITTERS", "build_source"]
