"""Hover texts: what a name stands for, read from the checked IR and the registry.

A tensor shows its dtype and per-sample shape (``x: float32[100, 32]``) and the layer that made
it; a layer its class, name, output shape, parameter count and every argument with the
defaults the checker filled in; a `let` its value; a def its signature; a function name its
registry entry.
"""

from __future__ import annotations

from .. import ir
from ..registry import LAYERS, REGISTRIES, LayerDef
from ..registry.types import REQUIRED, FCall, Sym
from ..values import ERR, DefValue, LayerClass, LayerValue, show
from .analysis import tensors_of


def spec_value(v) -> str:
    """``v`` as a spec would write it: ``true``, ``"same"``, ``glorot_uniform(seed=none)``."""
    if isinstance(v, ir.Ref):
        inner = ", ".join(f"{k}={spec_value(x)}" for k, x in v.args)
        return f"{v.name}({inner})" if inner else v.name
    if isinstance(v, ir.Layer):
        return f"{v.type} '{v.name}'"
    if isinstance(v, (list, tuple)) and any(isinstance(x, (ir.Ref, ir.Layer)) for x in v):
        text = ", ".join(spec_value(x) for x in v)
        return f"[{text}]" if isinstance(v, list) else f"({text}{',' if len(v) == 1 else ''})"
    return show(v)


def tensor_type(t: ir.Tensor) -> str:
    """``float32[100, 32]``: the dtype and the per-sample shape, ``?`` where unknown."""
    dims = ", ".join("?" if d is None else str(d) for d in t.type.shape)
    return f"{t.type.dtype}[{dims}]"


def tensor(name: str, t: ir.Tensor) -> str:
    head = f"{name}: {tensor_type(t)}"
    if t.producer is None:
        made = f"input `{t.input_name}`"
    else:
        layer = t.producer.layer
        out = f" (output {t.index})" if len(t.producer.outputs) > 1 else ""
        made = f"made by `{layer.name}` ({layer.type}{out}, at {t.producer.span})"
    mask = "; masked" if t.masked else ""
    return f"```\n{head}\n```\n{made}{mask}"


def layer(lv: LayerValue) -> str:
    """The class, Keras name, output shape(s), parameters and every argument of a built layer."""
    lay = lv.layer
    outs = sorted({" + ".join(tensor_type(t) for t in node.outputs) for node in lay.nodes})
    shape = f" → {' | '.join(outs)}" if outs else " (not applied)"
    trainable = sum(p.size for p in lay.params if p.trainable and lay.trainable)
    total = sum(p.size for p in lay.params)
    lines = [f"```\n{lay.type} '{lay.name}'{shape}\n```"]
    count = f"{total:,} parameters" + (f" ({trainable:,} trainable)" if trainable != total else "")
    if not lay.nodes:
        count = "parameters known once applied"
    elif len(lay.nodes) > 1:
        count += f"; shared: applied {len(lay.nodes)} times"
    lines.append(count)
    args = [f"{k}={spec_value(v)}" for k, v in lay.args.items()]
    if not lay.trainable:
        args.append("trainable=false")
    lines.append("```\n" + "\n".join(args) + "\n```" if args else "no arguments")
    return "\n\n".join(lines)


def signature(defn) -> str:
    """``Dense(units, activation=linear, ...)`` of a LayerDef or a FuncDef, every default shown."""
    parts = [a.name if a.default is REQUIRED else f"{a.name}={spec_value(a.default)}" for a in defn.args]
    if not parts and not isinstance(defn, LayerDef):  # an activation is written bare: relu
        return defn.name
    return f"{defn.name}({', '.join(parts)})"


def registry_entry(name: str) -> str | None:
    """A layer's or function's signature by the name the spec wrote, or None."""
    if name in LAYERS:
        defn = LAYERS[name]
        alias = f" (alias of {defn.name})" if name != defn.name else ""
        return f"```\n{signature(defn)}\n```\nlayer{alias}"
    from ..builder import MERGE_FUNCS

    if name in MERGE_FUNCS:
        return f"```\n{name}(inputs, ...)\n```\nmerge function: the layer {MERGE_FUNCS[name].name} applied to a list"
    kinds = [(kind, table[name]) for kind, table in REGISTRIES.items() if name in table]
    if kinds:
        entry = kinds[0][1]
        what = " or ".join(kind for kind, _ in kinds)
        alias = f" (alias of {entry.name})" if name != entry.name else ""
        return f"```\n{signature(entry)}\n```\n{what}{alias}"
    return None


def _default(expr) -> str:
    """A def parameter's default as written, where it is a literal or a name; else '…'."""
    from .. import syntax as S

    if isinstance(expr, S.Const):
        return show(expr.value)
    return expr.id if isinstance(expr, S.Name) else "…"


def callee_entry(name: str):
    """The registry entry a call's name means: a layer, a merge function's layer, or a function."""
    from ..builder import MERGE_FUNCS

    return LAYERS.get(name) or MERGE_FUNCS.get(name) or next(
        (t[name] for t in REGISTRIES.values() if name in t), None)


def keyword(callee: str, name: str) -> str | None:
    """``activation`` in ``Dense(8, activation=relu)``: what the argument takes and its default."""
    entry = callee_entry(callee)
    arg = None if entry is None else next((x for x in entry.args if x.name == name or name in x.aliases), None)
    if arg is None:
        return None
    default = "required" if arg.default is REQUIRED else f"default {spec_value(arg.default)}"
    return f"```\n{callee}({arg.name}=...)\n```\n{arg.type.expected}; {default}"


def value(name: str, v, what: str) -> str | None:
    """The hover of ``name`` bound to ``v`` (``what``: how the occurrence binds it, or "use")."""
    if what == "let":
        entry = registry_entry(v.name) if isinstance(v, (Sym, FCall)) else None
        return f"```\nlet {name} = {spec_value(v)}\n```" + (f"\n\n{entry}" if entry else "")
    if isinstance(v, LayerValue):
        return layer(v)
    ts = tensors_of(v)
    if len(ts) == 1:
        return tensor(name, ts[0])
    if ts:
        return "\n\n".join(tensor(f"{name}[{i}]", t) for i, t in enumerate(ts))
    if isinstance(v, LayerClass):
        return registry_entry(v.defn.auto_name if v.as_function else v.defn.name)
    if isinstance(v, DefValue):
        d = v.node
        params = ", ".join(p if default is None else f"{p}={_default(default)}" for p, _s, default in d.params)
        return f"```\ndef {d.name}({params})\n```\ndeclared at {d.span}"
    if isinstance(v, Sym):
        return registry_entry(v.name)
    if v is ERR or v is None and what == "use":
        return None
    if isinstance(v, FCall):
        return registry_entry(v.name)
    return f"```\n{name} = {spec_value(v)}\n```"
