"""The `compile` and `fit` blocks: optimizer, losses per output, loss weights,
metrics, and fit()'s arguments, checked against the model's outputs."""

from __future__ import annotations

import math

from . import ir
from . import messages as M
from .args import Reported
from .diagnostics import diag, suggest
from .registry import REGISTRIES
from .registry.types import Arg, ArgError, ArgType, Bool, FCall, Float, Int
from .values import ERR, DictVal


class Callbacks(ArgType):
    """fit's ``callbacks``: a list of callbacks by name or call (one alone is a list of one). check_fit
    resolves them itself, one by one, to check each against the model."""

    kind = "callback"  # bare names are callbacks here (args._takes_symbols)
    expected = "a list of callbacks"

    def coerce(self, v, resolve):
        return tuple(resolve("callback", item) for item in (v if isinstance(v, (list, tuple)) else [v]))


COMPILE_KEYS = ("optimizer", "loss", "loss_weights", "metrics")
FIT_ARGS = (Arg("epochs", Int(1), 1), Arg("batch_size", Int(1), 32),
            Arg("validation_split", Float(0, 1, hi_open=True, what="a fraction in [0, 1)"), 0.0),
            Arg("shuffle", Bool(), True), Arg("callbacks", Callbacks(), ()))
# Keras's metrics whose _direction is "down" (an error); every other metric of the registry rises
FALLING_METRICS = ("mean_squared_error", "mean_absolute_error", "root_mean_squared_error")
# Keras 3's optimizers take at most one of these (BaseOptimizer.__init__ raises a ValueError).
CLIPS = ("clipnorm", "clipvalue", "global_clipnorm")


def _entries(section, b, env, keys):
    out = {}
    for key, kspan, expr in section.entries:
        if key not in keys:
            b.err(kspan, M.UNKNOWN_ARG, owner=f"`{section.kind}`", name=key, hint=suggest(key, keys))
            continue
        if key in out:
            b.err(kspan, M.DUPLICATE_ARG, owner=f"`{section.kind}`", name=key)
            continue
        out[key] = (b.eval(expr, env), expr.span, kspan)
    return out


def _ref(b, kind, value, span):
    if value is ERR:
        return ERR
    try:
        return b.binder.resolve(kind, value, span)
    except Reported:
        return ERR
    except ArgError as e:  # not a name or call
        return b.err(span, M.COMPILE_REFERENCE, kind=kind, expected=getattr(e, "expected", kind))


def check_compile(section, model: ir.Model, b, env) -> ir.Compile | None:
    e = _entries(section, b, env, COMPILE_KEYS)
    outs = {o.name: o for o in model.outputs}
    ok = True
    if "optimizer" not in e or "loss" not in e:
        missing = "optimizer" if "optimizer" not in e else "loss"
        b.err(section.span, M.COMPILE_NEEDS, key=missing)
        return None
    opt = _ref(b, "optimizer", *e["optimizer"][:2])
    if opt is not ERR:
        ok &= _one_clip(b, opt, *e["optimizer"][:2])
    losses, resolved = _per_output(b, "loss", e["loss"], outs, required=True)
    weights = {name: 1.0 for name in outs}
    if "loss_weights" in e:
        weights = _weights(b, e["loss_weights"], outs)
    metrics = _metrics(b, e["metrics"], outs) if "metrics" in e else {name: () for name in outs}
    for name, loss in resolved.items():  # also when another key is wrong: report every error
        ok &= _loss_fits(b, loss, outs[name], e["loss"][1])
    if not ok or ERR in (opt, losses, weights, metrics):
        return None
    return ir.Compile(opt, losses, weights, metrics, section.span)


def _metrics(b, entry, outs):
    """{output: (Ref, ...)}: a list (or one metric) for every output, or a dict per output (an
    output it leaves out gets none, as in Keras)."""
    value, span, _ = entry
    if not isinstance(value, dict):
        refs = tuple(_ref(b, "metric", m, span) for m in (value if isinstance(value, list) else [value]))
        return ERR if ERR in refs else {name: refs for name in outs}
    out, bad = {name: () for name in outs}, False
    for key, v in value.items():
        kspan = value.spans[key] if isinstance(value, DictVal) else span
        if key not in outs:
            b.err(kspan, M.KEY_NAMES_NO_OUTPUT, kind="metrics", key=key, hint=suggest(key, outs),
                  outputs=", ".join(outs))
            bad = True
            continue
        out[key] = tuple(_ref(b, "metric", m, kspan) for m in (v if isinstance(v, list) else [v]))
        bad |= ERR in out[key]
    return ERR if bad else out


def _per_output(b, kind, entry, outs, required):
    """({output: Ref} or ERR, the entries that did resolve)."""
    value, span, _ = entry
    if isinstance(value, list):  # one per output, in output order (LANGUAGE.md, compile)
        if len(value) != len(outs):
            return b.err(span, M.LIST_PER_OUTPUT, kind=kind, items=_count(len(value), "item"),
                         outputs=_count(len(outs), "output"), names=", ".join(outs)), {}
        refs = {name: _ref(b, kind, v, span) for name, v in zip(outs, value)}
        resolved = {name: ref for name, ref in refs.items() if ref is not ERR}
        return (refs if len(resolved) == len(refs) else ERR), resolved
    if not isinstance(value, dict):
        ref = _ref(b, kind, value, span)
        return (ERR, {}) if ref is ERR else ({name: ref for name in outs},) * 2
    result, bad = {}, False
    for key, v in value.items():
        kspan = value.spans[key] if isinstance(value, DictVal) else span
        if key not in outs:
            b.err(kspan, M.KEY_NAMES_NO_OUTPUT, kind=kind, key=key, hint=suggest(key, outs), outputs=", ".join(outs))
            bad = True
            continue
        ref = _ref(b, kind, v, kspan)
        if ref is ERR:
            bad = True
        else:
            result[key] = ref
    missing = [n for n in outs if n not in value]
    if required and missing:
        b.err(span, M.DICT_MISSES_OUTPUTS, kind=kind, names=", ".join(missing))
        bad = True
    return (ERR if bad else result), result


def _weights(b, entry, outs):
    value, span, _ = entry
    if isinstance(value, list):
        if len(value) != len(outs):
            return b.err(span, M.LOSS_WEIGHTS_COUNT, numbers=_count(len(value), "number"),
                         outputs=_count(len(outs), "output"))
        value = dict(zip(outs, value))
    if not isinstance(value, dict):
        return b.err(span, M.LOSS_WEIGHTS_TYPE)
    out = {name: 1.0 for name in outs}
    for key, v in value.items():
        kspan = value.spans.get(key, span) if isinstance(value, DictVal) else span
        if key not in outs:
            return b.err(kspan, M.LOSS_WEIGHTS_KEY, key=key, hint=suggest(key, outs))
        if v is ERR:
            return ERR
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v < math.inf:
            return b.err(kspan, M.LOSS_WEIGHT_VALUE, key=key)
        out[key] = float(v)
    return out


def _loss_fits(b, loss: ir.Ref, out: ir.Output, span) -> bool:
    t = out.tensor.type
    # a loss that reads a class axis (the registry's class_axis) cannot fit an output of one unit
    if REGISTRIES["loss"][loss.name].class_axis and (not t.shape or t.shape[-1] == 1):
        b.diags.append(diag(span, M.LOSS_NEEDS_CLASSES, loss=loss.name, output=out.name, shape=t))
        return False
    if not t.is_float:
        b.diags.append(diag(span, M.LOSS_NEEDS_FLOAT, output=out.name, dtype=t.dtype))
        return False
    return _axis_fits(b, loss, out, span)


def _axis_fits(b, loss: ir.Ref, out: ir.Output, span) -> bool:
    """A loss's ``axis`` (cosine_similarity) names a per-sample axis of the output; on a masked
    output only the last, because the mask has one value per step of the other axes."""
    axis, rank = loss.kwargs.get("axis"), len(out.tensor.type.shape)  # .get: only some losses have one
    if axis is None:
        return True
    last = axis in (-1, rank)
    why = "" if 1 <= axis <= rank or -rank <= axis <= -1 else None
    if why is None or (out.tensor.masked and not last):
        why = "" if why is None else "; the output carries a mask, which fits only the last axis"
        b.diags.append(diag(span, M.LOSS_AXIS, loss=loss.name, axis=axis, output=out.name,
                            shape=out.tensor.type, rank=rank, why=why))
        return False
    return True


def _one_clip(b, opt: ir.Ref, value, span) -> bool:
    """At most one of CLIPS set (none counts as unset, as in Keras); else an error at the second one
    written (in a `let` too, where the call was written), or at the optimizer if passed by position."""
    given = [name for name in CLIPS if opt.kwargs[name] is not None]
    if len(given) < 2:
        return True
    written = {n: ns for n, ns, *_ in value.kwargs} if isinstance(value, FCall) else {}
    if all(n in written for n in given):
        given.sort(key=lambda n: (written[n].line, written[n].col))
    b.err(written.get(given[1], span), M.ONE_CLIP, first=given[0], second=given[1])
    return False


def check_fit(section, b, env, model: ir.Model | None = None) -> dict | None:
    """fit()'s arguments, defaults filled; with ``model`` (compiled), its callbacks checked against it."""
    e = _entries(section, b, env, [a.name for a in FIT_ARGS])
    kw = [(k, kspan, v, vspan) for k, (v, vspan, kspan) in e.items()]
    bound = b.binder.bind("`fit`", FIT_ARGS[:-1], [], kw, section.span, extra=("callbacks",))
    callbacks = ()
    if "callbacks" in e:
        value, span, _ = e["callbacks"]
        written = value if isinstance(value, list) else [value]
        callbacks = tuple(_ref(b, "callback", w, span) for w in written)
        for ref, w in zip(callbacks, written):  # each one that resolved, against the model
            if ref is ERR:
                continue
            if model is not None and model.compile is not None and not _callback_fits(b, model, ref, w, span):
                callbacks = (ERR,)
            elif bound is not ERR and not bound["validation_split"] and ref.kwargs.get("monitor", "")[:4] == "val_":
                # Keras's default monitor is val_loss: without validation the callback never acts
                b.err(getattr(w, "span", None) or span, M.MONITOR_NO_VALIDATION, callback=ref.name,
                      name=ref.kwargs["monitor"])
    if bound is ERR or ERR in callbacks:
        return None
    return {**bound, "callbacks": callbacks}


def history_keys(model: ir.Model) -> list[str]:
    """The training history's keys, as Keras names them (without the ``val_`` twins)."""
    multi = len(model.outputs) > 1
    keys = ["loss"] + ([f"{o.name}_loss" for o in model.outputs] if multi else [])
    return keys + [f"{name}_{m.written}" if multi else m.written for name, ms in model.compile.metrics.items()
                   for m in ms]


def monitor_direction(model: ir.Model, ref: ir.Ref) -> str | None:
    """"min" or "max" for a callback's ``monitor`` under its ``mode``; None where Keras cannot tell
    (auto mode finds the direction of a metric by its bare name, which per-output keys are not)."""
    mode, name = ref.kwargs["mode"], ref.kwargs["monitor"].removeprefix("val_")
    if mode != "auto":
        return mode
    if name == "loss":
        return "min"
    # one output: its metrics' keys are their names as written (`mae`); Keras's metric knows its direction
    metric = next((m for m in model.compile.metrics[model.outputs[0].name] if m.written == name), None)
    if len(model.outputs) > 1 or metric is None:
        return None
    return "min" if metric.name in FALLING_METRICS else "max"


def _respelt(model: ir.Model, monitor: str) -> str:
    """A hint where ``monitor`` names a logged metric by another of its names (``mean_squared_error``
    for ``mse``): Keras's key keeps the spelling the spec gives."""
    prefix = "val_" if monitor.startswith("val_") else ""
    bare = monitor.removeprefix(prefix)
    multi = len(model.outputs) > 1
    for out, metrics in model.compile.metrics.items():
        for m in metrics:
            entry = REGISTRIES["metric"][m.name]
            for name in (entry.name, *entry.aliases):
                if bare == (f"{out}_{name}" if multi else name):
                    key = f"{out}_{m.written}" if multi else m.written
                    return f"; the history logs it as '{prefix}{key}', as the spec spells the metric"
    return ""


def _callback_fits(b, model: ir.Model, ref: ir.Ref, written, span) -> bool:
    """A monitor the history logs, a direction Keras can find, a learning rate reduce_lr_on_plateau
    can set; errors at the argument where written (else at the callback)."""
    at = {n: ns for n, ns, *_ in written.kwargs} if isinstance(written, FCall) else {}
    here = getattr(written, "span", None) or span  # the callback's name or call
    where = lambda arg: at.get(arg, here)
    if "monitor" in ref.kwargs:
        keys = history_keys(model)
        monitor = ref.kwargs["monitor"]
        if monitor.removeprefix("val_") not in keys:
            known = keys + [f"val_{k}" for k in keys]
            b.err(where("monitor"), M.MONITOR_UNKNOWN, callback=ref.name, name=monitor,
                  hint=_respelt(model, monitor) or suggest(monitor, known), keys=", ".join(known))
            return False
        if monitor_direction(model, ref) is None:
            b.err(where("mode"), M.MONITOR_MODE, callback=ref.name, name=monitor)
            return False
    if ref.name == "reduce_lr_on_plateau" and isinstance(model.compile.optimizer.kwargs["learning_rate"], ir.Ref):
        b.err(here, M.PLATEAU_SCHEDULE)
        return False
    return True


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")
