"""Argument values as Keras source: a table from a Ref's kind to the expression that builds it.

A function's arguments are written where they differ from the registry's defaults, which are
Keras 3's (``Adam(clipnorm=1.0)``, ``Orthogonal()``): what a Keras user would write.
"""

from __future__ import annotations

from spec2net.codegen import py_literal
from spec2net.ir import Ref
from spec2net.pyformat import CallExpr
from spec2net.registry import REGISTRIES


def _string(ref: Ref):
    return py_literal(_keras_name(ref))


def _instance(module: str):
    def write(ref: Ref):
        defaults = {a.name: a.default for a in REGISTRIES[ref.kind][ref.name].args}
        args = tuple((k, value_source(v)) for k, v in ref.args if not is_default(v, defaults[k]))
        return CallExpr(f"keras.{module}.{_keras_name(ref)}", args)

    return write


# Keras's classes of the metrics that take arguments
METRIC_CLASSES = {"top_k_categorical_accuracy": "TopKCategoricalAccuracy",
                  "sparse_top_k_categorical_accuracy": "SparseTopKCategoricalAccuracy", "auc": "AUC"}


def _metric(ref: Ref):
    """A string (Keras picks the accuracy that fits the loss, as model.compile does), or Keras's class
    where an argument is off its default: ``keras.metrics.TopKCategoricalAccuracy(k=3, name=...)``.
    The name is written: an unnamed AUC() is "auc_1" after another AUC in the session. An alias is
    written as the spec spells it (``"acc"``, ``"mae"``), so Keras's history key is the spec's."""
    defaults = {a.name: a.default for a in REGISTRIES[ref.kind][ref.name].args}
    if all(is_default(v, defaults[k]) for k, v in ref.args):
        return py_literal(ref.spelling) if ref.spelling else _string(ref)
    args = tuple((k, value_source(v)) for k, v in ref.args if not is_default(v, defaults[k]))
    return CallExpr(f"keras.metrics.{METRIC_CLASSES[ref.name]}", args + (("name", py_literal(ref.written)),))


# kind -> how a Ref of that kind is written
REF_WRITERS = {
    "activation": _string,  # Keras's own identifiers ("relu"): the functions behind them are Keras's
    "metric": _metric,
    "initializer": _instance("initializers"),
    "regularizer": _instance("regularizers"),
    "optimizer": _instance("optimizers"),
    "schedule": _instance("optimizers.schedules"),  # keras.optimizers.schedules.CosineDecay(...)
    "loss": _instance("losses"),
    "callback": _instance("callbacks"),  # fit's, in FIT
}


def _keras_name(ref: Ref) -> str:
    return REGISTRIES[ref.kind][ref.name].keras_name


def value_source(value):
    """A filled argument value as an expression: ``value_source(Ref("activation", "relu"))`` -> ``"'relu'"``."""
    if isinstance(value, Ref):
        return REF_WRITERS[value.kind](value)
    return py_literal(value)


def is_default(value, default) -> bool:
    """``value`` is Keras's default: equal, and a bool only where the default is one (True == 1)."""
    return value is default or (isinstance(value, bool) == isinstance(default, bool) and value == default)
