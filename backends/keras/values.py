"""Argument values as Keras source: a table from a Ref's kind to the expression that builds it.

Every value the spec gave (or the checker filled from a default) is written out, with one
exception: an initializer's ``seed`` is written only where the spec set one, so an unseeded
spec gives Keras's unseeded initializer rather than a fixed seed the user never asked for.
"""

from __future__ import annotations

from spec2net.codegen import py_literal
from spec2net.ir import Ref
from spec2net.pyformat import CallExpr
from spec2net.registry import REGISTRIES


def _string(ref: Ref):
    return py_literal(_keras_name(ref))


def _instance(module: str, drop_unset_seed: bool = False):
    def write(ref: Ref):
        args = tuple((k, value_source(v)) for k, v in ref.args
                     if not (drop_unset_seed and k == "seed" and v is None))
        return CallExpr(f"keras.{module}.{_keras_name(ref)}", args)

    return write


# kind -> how a Ref of that kind is written
REF_WRITERS = {
    "activation": _string,  # Keras's own identifiers ("relu"): the functions behind them are Keras's
    "metric": _string,  # strings let Keras pick the accuracy that fits the loss, as model.compile does
    "initializer": _instance("initializers", drop_unset_seed=True),
    "regularizer": _instance("regularizers"),
    "optimizer": _instance("optimizers"),
    "loss": _instance("losses"),
}


def _keras_name(ref: Ref) -> str:
    return REGISTRIES[ref.kind][ref.name].keras_name


def value_source(value):
    """A filled argument value as an expression: ``value_source(Ref("activation", "relu"))`` -> ``"'relu'"``."""
    if isinstance(value, Ref):
        return REF_WRITERS[value.kind](value)
    return py_literal(value)
