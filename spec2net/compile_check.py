"""The `compile` and `fit` blocks: optimizer, losses per output, loss weights,
metrics, and fit()'s arguments, checked against the model's outputs."""

from __future__ import annotations

import math

from . import ir
from .args import Reported
from .diagnostics import diag, suggest
from .registry.types import Arg, ArgError, Bool, Float, Int
from .values import ERR, DictVal

COMPILE_KEYS = ("optimizer", "loss", "loss_weights", "metrics")
FIT_ARGS = (Arg("epochs", Int(1), 1), Arg("batch_size", Int(1), 32),
            Arg("validation_split", Float(0, 1, hi_open=True, what="a fraction in [0, 1)"), 0.0),
            Arg("shuffle", Bool(), True))
# Losses that read a class axis: they cannot fit an output whose last dim is 1.
CLASS_LOSSES = ("categorical_crossentropy", "sparse_categorical_crossentropy")


def _entries(section, b, env, keys):
    out = {}
    for key, kspan, expr in section.entries:
        if key not in keys:
            b.err(kspan, "unknown-arg", owner=f"`{section.kind}`", name=key, hint=suggest(key, keys))
            continue
        if key in out:
            b.err(kspan, "duplicate-arg", owner=f"`{section.kind}`", name=key)
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
        return b.err(span, "compile", detail=f"{kind}: expected {getattr(e, 'expected', kind)}")


def check_compile(section, model: ir.Model, b, env) -> ir.Compile | None:
    e = _entries(section, b, env, COMPILE_KEYS)
    outs = {o.name: o for o in model.outputs}
    ok = True
    if "optimizer" not in e or "loss" not in e:
        missing = "optimizer" if "optimizer" not in e else "loss"
        b.err(section.span, "compile", detail=f"`compile` needs `{missing} = ...`")
        return None
    opt = _ref(b, "optimizer", *e["optimizer"][:2])
    if opt is not ERR and opt.kwargs["clipnorm"] is not None and opt.kwargs["global_clipnorm"] is not None:
        b.err(e["optimizer"][1], "compile", detail="clipnorm and global_clipnorm cannot both be set")
        ok = False
    losses, resolved = _per_output(b, "loss", e["loss"], outs, required=True)
    weights = {name: 1.0 for name in outs}
    if "loss_weights" in e:
        weights = _weights(b, e["loss_weights"], outs)
    metrics = []
    if "metrics" in e:
        value, span, _ = e["metrics"]
        items = value if isinstance(value, list) else [value]
        metrics = [_ref(b, "metric", m, span) for m in items]
    for name, loss in resolved.items():  # also when another key is wrong: report every error
        ok &= _loss_fits(b, loss, outs[name], e["loss"][1])
    if not ok or ERR in (opt, losses, weights) or ERR in metrics:
        return None
    return ir.Compile(opt, losses, weights, metrics, section.span)


def _per_output(b, kind, entry, outs, required):
    """({output: Ref} or ERR, the entries that did resolve)."""
    value, span, _ = entry
    if not isinstance(value, dict):
        ref = _ref(b, kind, value, span)
        return (ERR, {}) if ref is ERR else ({name: ref for name in outs},) * 2
    result, bad = {}, False
    for key, v in value.items():
        kspan = value.spans[key] if isinstance(value, DictVal) else span
        if key not in outs:
            b.err(kspan, "compile", detail=f"{kind} key '{key}' names no output{suggest(key, outs)}; "
                                           f"outputs: {', '.join(outs)}")
            bad = True
            continue
        ref = _ref(b, kind, v, kspan)
        if ref is ERR:
            bad = True
        else:
            result[key] = ref
    missing = [n for n in outs if n not in value]
    if required and missing:
        b.err(span, "compile", detail=f"the {kind} dict has no entry for output(s) {', '.join(missing)}")
        bad = True
    return (ERR if bad else result), result


def _weights(b, entry, outs):
    value, span, _ = entry
    if isinstance(value, list):
        if len(value) != len(outs):
            return b.err(span, "compile", detail=f"loss_weights lists {_count(len(value), 'number')} for "
                                                 f"{_count(len(outs), 'output')}")
        value = dict(zip(outs, value))
    if not isinstance(value, dict):
        return b.err(span, "compile", detail="loss_weights is a dict {output: weight} or a list")
    out = {name: 1.0 for name in outs}
    for key, v in value.items():
        kspan = value.spans.get(key, span) if isinstance(value, DictVal) else span
        if key not in outs:
            return b.err(kspan, "compile", detail=f"loss_weights key '{key}' names no output{suggest(key, outs)}")
        if v is ERR:
            return ERR
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v < math.inf:
            return b.err(kspan, "compile", detail=f"loss weight of '{key}' must be a finite number >= 0")
        out[key] = float(v)
    return out


def _loss_fits(b, loss: ir.Ref, out: ir.Output, span) -> bool:
    t = out.tensor.type
    if loss.name in CLASS_LOSSES and (not t.shape or t.shape[-1] == 1):
        b.diags.append(diag(span, "compile", detail=f"{loss.name} needs a class axis, but output '{out.name}' "
                                                    f"has shape {t} (use binary_crossentropy for one unit)"))
        return False
    if not t.is_float:
        b.diags.append(diag(span, "compile", detail=f"output '{out.name}' is {t.dtype}; a loss needs a float output"))
        return False
    return True


def check_fit(section, b, env) -> dict | None:
    e = _entries(section, b, env, [a.name for a in FIT_ARGS])
    kw = [(k, kspan, v, vspan) for k, (v, vspan, kspan) in e.items()]
    bound = b.binder.bind("`fit`", FIT_ARGS, [], kw, section.span)
    return None if bound is ERR else bound


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")
