"""The training part of a generated module (where the spec has ``compile``): the spec's
optimizer, losses, metrics, penalties and fit defaults as calls of the runtime, which holds
Keras 3's formulas. Arguments equal to Keras's defaults (the registry's) are left out, as a
Keras user leaves them out."""

from __future__ import annotations

from spec2net import ir
from spec2net.codegen import py_literal
from spec2net.pyformat import WIDTH, CallExpr, Seq, render
from spec2net.registry import REGISTRIES

from .functions import regularizer_expr


def _changed(ref: ir.Ref) -> tuple:
    """``ref``'s arguments that differ from the registry's defaults: ((name, source), ...)."""
    defaults = {a.name: a.default for a in REGISTRIES[ref.kind][ref.name].args}
    return tuple((k, _source(v)) for k, v in ref.args if v != defaults[k])


def _source(value):
    """An argument as source: a learning-rate schedule as the runtime's class (``rt.CosineDecay(...)``)."""
    if isinstance(value, ir.Ref):
        return CallExpr(f"rt.{REGISTRIES[value.kind][value.name].keras_name}", _changed(value))
    return py_literal(value)


def _data_spec(model: ir.Model) -> CallExpr:
    from spec2net.net import data_spec

    spec = data_spec(model)
    inputs = tuple(CallExpr("rt.InputSpec", tuple((None, py_literal(v)) for v in (s.name, s.dtype, s.shape))
                            + (((None, py_literal(s.input_dim)),) if s.input_dim is not None else ()))
                   for s in spec.inputs)
    outputs = tuple(CallExpr("rt.OutputSpec", tuple((None, py_literal(v)) for v in (s.name, s.shape, s.loss)))
                    for s in spec.outputs)
    return CallExpr("rt.DataSpec", ((None, Seq("(", ")", inputs)), (None, Seq("(", ")", outputs))))


def _metric(ref: ir.Ref):
    """A metric as the runtime's tracker takes it: its name, or (history key, name, {changed
    arguments}) where the spec spells it otherwise (``acc``: Keras's key keeps the spelling) or
    changes an argument off Keras's defaults."""
    changed = _changed(ref)
    if not changed and not ref.spelling:
        return py_literal(ref.name)
    args = Seq("{", "}", tuple((py_literal(k), v) for k, v in changed))
    return Seq("(", ")", (py_literal(ref.written), py_literal(ref.name), args))


def _metrics(c: ir.Compile) -> tuple:
    """``metrics=(...)`` where every output has the same (a spec's list), else each output's own
    as ``output_metrics=((...), ...)`` in output order."""
    lists = [Seq("(", ")", tuple(_metric(m) for m in ms)) for ms in c.metrics.values()]
    if len(set(c.metrics.values())) == 1:
        return (("metrics", lists[0]),)
    return (("metrics", "()"), ("output_metrics", Seq("(", ")", tuple(lists))))


def _callbacks(model: ir.Model) -> tuple:
    """``callbacks=(rt.EarlyStopping(...), ...)`` for the spec's fit callbacks, Keras's mode="auto"
    written as the direction it finds (the runtime knows no metrics)."""
    from spec2net.compile_check import monitor_direction

    refs = model.fit["callbacks"]  # the checker fills fit (Keras defaults)
    calls = []
    for ref in refs:
        args = tuple((k, v) for k, v in _changed(ref) if k != "mode")
        if "mode" in ref.kwargs:
            args += (("mode", py_literal(monitor_direction(model, ref))),)
        calls.append(CallExpr(f"rt.{REGISTRIES['callback'][ref.name].keras_name}", args))
    return (("callbacks", Seq("(", ")", tuple(calls))),) if calls else ()


def training_context(model: ir.Model, weights: list) -> dict:
    """Template variables for the training part; ``{"compile": None}`` where the spec has none."""
    c = model.compile
    if c is None:
        return {"compile": None}
    activity = any(layer.args.get("activity_regularizer") for layer in model.layers)
    penalties = [regularizer_expr(w["param"].regularizer,
                                  [f"model.get_parameter({py_literal(t)})" for t in w["paths"]])
                 for w in weights if w["param"].regularizer is not None and w["trainable"]]
    opt = REGISTRIES["optimizer"][c.optimizer.name]
    optimizer = CallExpr(f"rt.{opt.keras_name}", ((None, "rt.keras_variables(model, WEIGHTS)"),)
                         + _changed(c.optimizer))
    losses = []
    for o in model.outputs:
        ref = c.loss[o.name]
        args = Seq("{", "}", tuple((py_literal(k), v) for k, v in _changed(ref)))
        weight = py_literal(float(c.loss_weights[o.name]))
        losses.append(Seq("(", ")", (f"rt.{ref.name}", args, weight)))
    sparse = [REGISTRIES["loss"][c.loss[o.name].name].target == "class_ids" for o in model.outputs]
    training = CallExpr("rt.Training", (
        ("input_names", "INPUT_NAMES"), ("output_names", "OUTPUT_NAMES"),
        ("input_dtypes", Seq("(", ")", tuple(f"torch.{t.type.dtype}" for t in model.inputs))),
        ("target_dtypes", Seq("(", ")", tuple("torch.int64" if s else "torch.float32" for s in sparse))),
        ("losses", Seq("(", ")", tuple(losses))),
        *_metrics(c),
        ("optimizer", "make_optimizer"), ("data", _data_spec(model)),
    ) + ((("penalties", "regularization_loss"),) if penalties or activity else ())
      + _callbacks(model))
    f = model.fit
    keys = ("epochs", "batch_size", "shuffle", "validation_split")
    defaults = ", ".join(f"{k}={py_literal(f[k])}" for k in keys)
    fit_def = f"def fit(model, x, y, {defaults}, **options)"
    if len(fit_def) >= WIDTH:  # black's layout: the parameters on a line of their own
        fit_def = f"def fit(\n    model, x, y, {defaults}, **options\n)"
    return {"compile": c, "penalties": penalties, "penalty_sum": _penalty_sum(penalties, activity),
            "optimizer_call": render(optimizer, indent=4, before=len("return ")),
            "training": render(training, before=len("TRAINING = ")),
            "fit_def": fit_def + ":"}


def _penalty_sum(penalties: list, activity: bool) -> str:
    """The body of ``regularization_loss`` as black lays out a sum: one line when it fits, else
    one term per line inside parentheses with the operators leading."""
    terms = penalties + (["sum(model.activity_losses)"] if activity else [])
    one = "    return " + " + ".join(terms)
    if len(one) <= WIDTH:
        return one
    return "\n".join(["    return ("] + [f"        {'+ ' if i else ''}{t}" for i, t in enumerate(terms)]
                     + ["    )"])
