"""``compile_model`` and ``FIT``: the spec's compile and fit blocks as Keras writes them.

Losses, loss weights and metrics are dicts keyed by the spec's output names, which the generated
model's ``output_names`` are; loss weights and metrics are written only where they say more than
Keras's defaults (every weight 1.0, no metrics).
"""

from __future__ import annotations

from spec2net import ir
from spec2net.codegen import py_literal
from spec2net.pyformat import CallExpr, Seq, render

from .values import value_source


def compile_call(c: ir.Compile) -> CallExpr:
    """``model.compile(optimizer=..., loss={...}, ...)`` for the spec's compile block."""

    def per_output(values: dict) -> Seq:
        return Seq("{", "}", tuple((py_literal(name), v) for name, v in values.items()))

    args = [("optimizer", value_source(c.optimizer)),
            ("loss", per_output({k: value_source(v) for k, v in c.loss.items()}))]
    if any(float(w) != 1.0 for w in c.loss_weights.values()):
        args.append(("loss_weights", per_output({k: py_literal(float(v)) for k, v in c.loss_weights.items()})))
    if c.metrics:
        # the spec's metric list applies to every output, as Keras does with a list
        metrics = Seq("[", "]", tuple(value_source(m) for m in c.metrics))
        args.append(("metrics", per_output({k: metrics for k in c.loss})))
    return CallExpr("model.compile", tuple(args))


def fit_code(fit: dict) -> str:
    """``FIT = {...}``: every key of the spec's fit block (filled by the checker), for ``fit(**FIT)``."""
    return "FIT = " + render(Seq("{", "}", tuple((py_literal(k), py_literal(v)) for k, v in fit.items())),
                             0, len("FIT = "))
