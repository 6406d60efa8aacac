"""spec2net: one declarative .net model spec, three executions that agree.

>>> import spec2net
>>> net = spec2net.load("examples/mlp.net")     # doctest: +SKIP
>>> print(net.summary())                        # doctest: +SKIP
"""

from __future__ import annotations

from .diagnostics import Diagnostic, SpecError
from .net import Net
from .runtime.data import DataError

__version__ = "0.1.0"
__all__ = ["DataError", "Diagnostic", "Net", "NonFiniteError", "SpecError", "TrainError", "__version__", "load", "load_weights", "loads", "save_weights"]


def load(path, model: str | None = None, defines: dict | None = None) -> Net:
    """Parse and check a .net file; raise SpecError listing every error.

    ``spec2net.load("model.net", model="m", defines={"vocab": 20000})``
    """
    from .loader import load_model

    m, diags, lines = load_model(path, model, defines)
    return Net(m, [d for d in diags if d.severity == "warning"], {m.file: lines})


def loads(text: str, model: str | None = None, defines: dict | None = None, file: str = "<string>") -> Net:
    """Like ``load`` for spec text: ``spec2net.loads("sequential s { input [4]; Dense(1) }")``."""
    from .loader import check_text, select

    models, diags = check_text(text, file, defines)
    if any(d.severity == "error" for d in diags) or not models:
        raise SpecError(diags, {file: text.split("\n")})  # lines as the lexer counts them: only "\n" ends one
    return Net(select(models, model, file), [d for d in diags if d.severity == "warning"],
               {file: text.split("\n")})


def load_weights(path) -> dict:
    """The arrays of a .npz or .safetensors weights file: ``spec2net.load_weights("w.npz")``."""
    from .weights import load_weights as _load

    return _load(path)


def save_weights(path, weights: dict) -> None:
    """Write a weights dict as .npz or .safetensors, atomically: ``spec2net.save_weights("w.npz", w)``."""
    from .weights import save_weights as _save

    _save(path, weights)


def __getattr__(name: str):
    """``spec2net.TrainError`` and ``spec2net.NonFiniteError`` (a TrainError: training diverged),
    imported on first use so that ``import spec2net`` stays light."""
    if name in ("TrainError", "NonFiniteError"):
        from .backends.numpy import train

        return getattr(train, name)
    raise AttributeError(f"module 'spec2net' has no attribute {name!r}")
