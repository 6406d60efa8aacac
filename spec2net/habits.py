"""Diagnostics for what a Keras user writes by habit (docs/from-keras.md): Keras's
``Input(shape=...)``, ``Model(...)`` and ``Sequential(...)`` calls, and misspelt layers wherever
they are written: applied, declared and never applied, alone on a line, or in a sequential.
A mixin of ``builder.ModelBuilder``, whose ``err`` and ``defs`` it uses.
"""

from __future__ import annotations

from dataclasses import fields
from functools import cache

from . import messages as M
from . import syntax as S
from .diagnostics import diag, suggest
from .registry import LAYERS, REGISTRIES
from .registry.types import FCall, Sym
from .values import ERR, show

MERGES = {d.auto_name for d in LAYERS.values() if d.merge}  # add, concatenate, ...: functions here
KERAS_CALLS = ("Input", "Model", "Sequential")  # Keras calls whose spec form is a statement or a block


class KerasHabits:
    """Keras habits of ``ModelBuilder`` (see the module's docstring)."""

    def keras_only(self, name, kw, span):
        """ERR, with the spec's form of Keras's Input(...), Model(...) or Sequential(...)."""
        if name != "Input":
            return self.err(span, M.KERAS_MODEL, name=name)
        given = {n: v for n, _ns, v, _vs in kw}
        shape, dtype = given.get("shape"), given.get("dtype")
        dims = ", ".join("?" if d is None or d is ERR else show(d) for d in shape) if isinstance(shape, tuple) else "..."
        dtype = dtype if isinstance(dtype, str) else "float32"
        return self.err(span, M.KERAS_INPUT, type=f"{dtype}[{dims}]")

    def unknown_callable(self, value, span) -> bool:
        """Whether ``value`` is a call or name that means nothing (``Denes(8)`` where a layer
        belongs), reported with a suggestion; a known function (``l2(0.01)``) is not."""
        if not isinstance(value, (FCall, Sym)) or any(value.name in t for t in REGISTRIES.values()):
            return False
        self.err(value.span or span, M.UNKNOWN_LAYER, name=value.name, hint=callee_hint(value.name, self.defs))
        return True

    def not_a_layer(self, value, span):
        """A sequential's line that is no layer: an unknown name, or something else."""
        if not self.unknown_callable(value, span):
            self.err(span, M.SEQUENTIAL_LINE)

    def unknown_callees(self, expr, env):
        """Report the unknown names called in ``expr`` (an unused `Denes(8)(x)` line), without
        evaluating it."""
        for f in unknown_callees([expr], lambda name: name in env or name in self.defs):
            self.err(f.span, M.UNKNOWN_LAYER, name=f.id, hint=callee_hint(f.id, self.defs))


def misspelt_in_uncalled_defs(items, defs: dict, calls: dict, globals_: dict, diags: list) -> None:
    """A def that no model reaches is never expanded, so a misspelt layer in it would go unseen:
    report each unknown name it calls, statically (a reached def reports them as it expands).
    ``calls`` maps each def to the defs its body names (the checker's, for recursion)."""
    if not defs:
        return
    reached, todo = set(), [n for n in _names([x for x in items if not isinstance(x, S.Def)]) if n in defs]
    while todo:
        name = todo.pop()
        if name not in reached:
            reached.add(name)
            todo.extend(calls[name])
    for d in defs.values():
        if d.name in reached:
            continue
        known = {p for p, _, _ in d.params} | {t for s in d.body if isinstance(s, S.Assign) for t, _ in s.targets}
        for f in unknown_callees(d.body, lambda name, known=known: name in known or name in globals_ or name in defs):
            diags.append(diag(f.span, M.UNKNOWN_LAYER, name=f.id, hint=callee_hint(f.id, defs)))


def unknown_callees(roots, bound) -> list:
    """The ``Name`` nodes called under ``roots`` that are no layer, function, def or name ``bound``
    in the scope (found statically, so for code that is never evaluated)."""
    return [c.func for c in _nodes(roots, S.Call) if isinstance(c.func, S.Name) and not bound(c.func.id)
            and not _known(c.func.id)]


def callee_hint(name, defs) -> str:
    return suggest(name, [*LAYERS, *MERGES, *defs, *(n for t in REGISTRIES.values() for n in t)])


def _known(name) -> bool:
    return name in KERAS_CALLS or name in LAYERS or name in MERGES or any(name in t for t in REGISTRIES.values())


def _nodes(roots, kind):
    """Every AST node of ``kind`` under ``roots`` (an explicit stack: a spec may nest 10,000 deep)."""
    todo, out = list(roots), []
    while todo:
        n = todo.pop()
        if isinstance(n, S.Node):
            if isinstance(n, kind):
                out.append(n)
            for name in _fields(type(n)):
                v = getattr(n, name)
                if isinstance(v, (S.Node, list, tuple)):
                    todo.append(v)
        elif isinstance(n, (list, tuple)):
            todo.extend(x for x in n if isinstance(x, (S.Node, list, tuple)))
    return out


@cache
def _fields(node_type) -> tuple:
    """A node type's fields but its span (``dataclasses.fields`` per node would cost a 10,000-def
    file a tenth of its load)."""
    return tuple(f.name for f in fields(node_type) if f.name != "span")


def _names(roots) -> set:
    return {n.id for n in _nodes(roots, S.Name)}
