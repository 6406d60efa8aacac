"""The torch backend: ``build_source(model)`` writes a standalone PyTorch module for a spec.

>>> import spec2net
>>> print(spec2net.load("examples/mlp.net").build("torch"))  # doctest: +SKIP
"""

from .source import build_source

__all__ = ["build_source"]
