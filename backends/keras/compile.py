"""``compile_model`` and ``FIT``: the spec's compile and fit blocks as Keras writes them.

Losses, loss weights and metrics are per output (a dict for one output, lists in output order for
several); loss weights and metrics are written only where they say more than Keras's defaults
(every weight 1.0, no metrics).
"""

from __future__ import annotations

from spec2net import ir
from spec2net.codegen import py_literal
from spec2net.pyformat import CallExpr, Seq, render

from .values import value_source


def compile_call(c: ir.Compile) -> CallExpr:
    """``model.compile(optimizer=..., loss=..., ...)`` for the spec's compile block: with one output,
    dicts keyed by its name; with several, lists in output order (the model's outputs are a list,
    and a list cannot be reordered: Keras applies a list to dict outputs in sorted-name order)."""
    names = list(c.loss)  # output order

    def per_output(values: list) -> Seq:
        if len(names) > 1:
            return Seq("[", "]", tuple(values))
        return Seq("{", "}", tuple((py_literal(name), v) for name, v in zip(names, values)))

    args = [("optimizer", value_source(c.optimizer)),
            ("loss", per_output([value_source(c.loss[k]) for k in names]))]
    if any(float(w) != 1.0 for w in c.loss_weights.values()):
        args.append(("loss_weights", per_output([py_literal(float(c.loss_weights[k])) for k in names])))
    if any(c.metrics.values()):
        # each output's own list (Keras 3 refuses one flat list for several outputs)
        args.append(("metrics", per_output([Seq("[", "]", tuple(value_source(m) for m in c.metrics[k]))
                                            for k in names])))
    return CallExpr("model.compile", tuple(args))


def fit_code(fit: dict) -> str:
    """``FIT = {...}``: every key of the spec's fit block (filled by the checker), for ``fit(**FIT)``;
    its callbacks as Keras's (``keras.callbacks.EarlyStopping(...)``), left out when there are none."""
    items = tuple((py_literal(k), Seq("[", "]", tuple(value_source(r) for r in v)) if k == "callbacks"
                   else py_literal(v)) for k, v in fit.items() if k != "callbacks" or v)
    return "FIT = " + render(Seq("{", "}", items), 0, len("FIT = "))
