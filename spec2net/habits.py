"""Diagnostics for what a Keras user writes by habit (docs/from-keras.md): Keras's
``Input(shape=...)``, ``Model(...)`` and ``Sequential(...)`` calls, and misspelt layers wherever
they are written: applied, declared and never applied, alone on a line, or in a sequential.
A mixin of ``builder.ModelBuilder``, whose ``err`` and ``defs`` it uses.
"""

from __future__ import annotations

from . import messages as M
from . import syntax as S
from .diagnostics import suggest
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
        self.err(value.span or span, M.UNKNOWN_LAYER, name=value.name, hint=self.callee_hint(value.name))
        return True

    def not_a_layer(self, value, span):
        """A sequential's line that is no layer: an unknown name, or something else."""
        if not self.unknown_callable(value, span):
            self.err(span, M.SEQUENTIAL_LINE)

    def unknown_callees(self, expr, env):
        """Report the unknown names called in ``expr`` (an unused `Denes(8)(x)` line), without
        evaluating it: an explicit stack, as an expression may nest 10,000 deep."""
        todo = [expr]
        while todo:
            e = todo.pop()
            if isinstance(e, S.Call):
                f = e.func
                if isinstance(f, S.Name) and not self.callable_name(f.id, env):
                    self.err(f.span, M.UNKNOWN_LAYER, name=f.id, hint=self.callee_hint(f.id))
                todo.append(f)
                todo.extend(e.args)
                todo.extend(v for _n, _s, v in e.kwargs)
            elif isinstance(e, S.Chain):
                todo.extend(e.stages)
            elif isinstance(e, (S.ListExpr, S.TupleExpr)):
                todo.extend(e.items)

    def callable_name(self, name, env) -> bool:
        return (name in env or name in self.defs or name in KERAS_CALLS or name in LAYERS or name in MERGES
                or any(name in t for t in REGISTRIES.values()))

    def callee_hint(self, name) -> str:
        return suggest(name, [*LAYERS, *MERGES, *self.defs, *(n for t in REGISTRIES.values() for n in t)])
