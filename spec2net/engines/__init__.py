"""The engines behind ``train``, ``evaluate`` and ``predict --backend numpy|torch|keras``: each
takes a Net, data dicts of arrays (NumPy arrays or memory maps, indexed one batch at a time) and
Keras-layout weights, and gives the NumPy trainer's results -- ``(weights, history)``, evaluate's
logs, predict's outputs -- with the same checks, keys and errors.

>>> weights, history = engine("torch").train(net, data, None, epochs=2, device="cpu")
"""

from __future__ import annotations

import importlib

from ..tables import Table

ENGINES = Table("engine", instantiate=False)
for _name, _module in (("numpy", "numpy_engine"), ("torch", "torch_engine"), ("keras", "keras_engine")):
    ENGINES.add(f"{__name__}.{_module}", _name)  # imported on first use: torch and Keras are optional


def engine(name: str):
    """The engine module for ``--backend name``: ``train``, ``evaluate``, ``predict``."""
    return importlib.import_module(ENGINES[name])


__all__ = ["ENGINES", "engine"]
