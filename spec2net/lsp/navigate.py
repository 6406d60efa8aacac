"""Hover, go to definition, references, rename and the document's outline, on an Analysis.

Positions here are the compiler's: 1-based lines and columns counted in characters; the server
converts them to and from the client's units.
"""

from __future__ import annotations

import re

from .. import ir
from .. import syntax as S
from ..values import DefValue
from . import describe
from .analysis import Analysis
from .scopes import Occ

MISSING = object()
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
KEYWORDS = ("model", "sequential", "def", "let", "input", "output", "return", "compile", "fit", "true", "false",
            "none")


def hover(a: Analysis, line: int, col: int) -> str | None:
    """Markdown for the name at (line, col), or None."""
    occ = a.index.at(line, col)
    if occ is None:
        kw = a.index.keyword_at(line, col)
        if kw is None:
            return None
        param = a.index.definition(kw)
        return describe.keyword(kw.callee, kw.name) if param is None else hover(a, param.span.line, param.span.col)
    key = (occ.span.line, occ.span.col)
    if key in a.record.layers:  # `Dense` in `Dense(8)(x)`: the layer built there
        return describe.layer(a.record.layers[key])
    if occ.what == "let":
        v = a.record.lets.get(occ.name, MISSING)
        return None if v is MISSING else describe.value(occ.name, v, "let")
    if occ.what == "model":
        return _model(a, occ.name)
    if occ.what == "def":
        return describe.value(occ.name, DefValue(_def(a, occ.name)), "def")
    d = a.index.definition(occ)
    if d is not None and d.what == "let" and d is not occ:  # `units=width`: the let, by its name
        return hover(a, d.span.line, d.span.col)
    v = a.record.values.get(key, MISSING)
    if v is MISSING:
        v = _output(a, key)
    if v is MISSING:  # not evaluated (a def never called, a model cut short): what it names
        if d is not None and d is not occ:
            return hover(a, d.span.line, d.span.col)
        return describe.registry_entry(occ.name) if d is None else None
    return describe.value(occ.name, v, occ.what)


def _def(a: Analysis, name: str):
    return next(x for x in a.tree.items if isinstance(x, S.Def) and x.name == name)


def _output(a: Analysis, key):
    for m in a.models.values():
        for o in m.outputs:
            if (o.span.line, o.span.col) == key:
                return o.tensor
    return MISSING


def _model(a: Analysis, name: str) -> str | None:
    m = a.models.get(name)
    if m is None:
        return None
    t, n = m.count_params()
    ins = ", ".join(f"{x.input_name}: {describe.tensor_type(x)}" for x in m.inputs)
    outs = ", ".join(f"{o.name}: {describe.tensor_type(o.tensor)}" for o in m.outputs)
    return (f"```\n{m.kind} {m.name}({ins}) -> ({outs})\n```\n"
            f"{len(m.layers)} layers, {t + n:,} parameters ({t:,} trainable)")


def definition(a: Analysis, line: int, col: int) -> Occ | None:
    occ = a.index.at(line, col) or a.index.keyword_at(line, col)
    return None if occ is None else a.index.definition(occ)


def references(a: Analysis, line: int, col: int, include_declaration: bool = True) -> list[Occ]:
    occ = a.index.at(line, col)
    if occ is None:
        return []
    refs = a.index.references(occ)
    return refs if include_declaration else [o for o in refs if not o.binds]


def renameable(a: Analysis, line: int, col: int) -> Occ | None:
    """The occurrence at (line, col) if its symbol is the file's own (a tensor, layer, let, def,
    parameter or model), not a name of the language; ``units=`` of a def's call is its parameter."""
    occ = a.index.at(line, col)
    if occ is None and a.index.keyword_at(line, col) is not None:
        occ = a.index.definition(a.index.keyword_at(line, col))
    return occ if occ is not None and a.index.symbol(occ) is not None else None


def rename_error(new: str) -> str | None:
    """Why ``new`` cannot be a name in a spec, or None."""
    if not IDENTIFIER.fullmatch(new):
        return f"'{new}' is not a name: letters, digits and '_', not starting with a digit"
    if new in KEYWORDS or new in ("True", "False", "None"):  # the parser refuses Python's literals
        return f"'{new}' is a keyword"
    return None


def symbols(a: Analysis) -> list[dict]:
    """The outline: lets, defs and models; a model's inputs, layers (by Keras name) and outputs.
    Each entry: name, detail, kind ("constant" "function" "module" "variable" "class" "field"),
    span, end (line, col) and children."""
    if a.tree is None:
        return []
    items = a.tree.items
    out = []
    for i, item in enumerate(items):
        last = items[i + 1].span.line - 1 if i + 1 < len(items) else min(a.cut, len(a.lines))
        last = max(last, item.span.line)
        end = (last, len(a.lines[last - 1]) + 1 if last <= len(a.lines) else 1)
        if isinstance(item, S.Let):
            v = a.record.lets.get(item.name, MISSING)
            detail = "" if v is MISSING else describe.spec_value(v)
            out.append(_sym(item.name, detail, "constant", item.span, end))
        elif isinstance(item, S.Def):
            params = ", ".join(p for p, _s, _d in item.params)
            out.append(_sym(item.name, f"def ({params})", "function", item.span, end,
                            _layers(a, item.span.line, last)))
        elif isinstance(item, S.Model):
            m = a.models.get(item.name)
            children = []
            if m is not None:
                children += [_sym(t.input_name, describe.tensor_type(t), "variable", _input_span(item, t), None)
                             for t in m.inputs if _input_span(item, t) is not None]
            children += _layers(a, item.span.line, last)
            if m is not None:
                children += [_sym(o.name, describe.tensor_type(o.tensor), "field", o.span, None) for o in m.outputs
                             if o.span != item.name_span]  # a sequential's output is the model itself
            children.sort(key=lambda s: (s["span"].line, s["span"].col))
            out.append(_sym(item.name, item.kind, "module", item.name_span, end, children, start=item.span))
    return out


def _input_span(model: S.Model, t: ir.Tensor):
    for stmt in model.body:
        if isinstance(stmt, S.Input) and (stmt.name or "input") == t.input_name:
            return stmt.span
    return None


def _layers(a: Analysis, first: int, last: int) -> list[dict]:
    out = []
    for (line, _col), lv in a.record.layers.items():
        if first <= line <= last:
            lay = lv.layer
            shapes = sorted({describe.tensor_type(t) for node in lay.nodes for t in node.outputs})
            out.append(_sym(lay.name, f"{lay.type}" + (f" → {', '.join(shapes)}" if shapes else ""), "class",
                            lay.span, None))
    return out


def _sym(name, detail, kind, span, end, children=(), start=None) -> dict:
    return {"name": name, "detail": detail, "kind": kind, "span": span, "start": start or span, "end": end,
            "children": list(children)}
