"""Where each name of a file is bound and used, read from the AST alone (it needs no check).

A model or def body is a scope: its inputs, assignment targets, named outputs and a def's
parameters are its own names; every other name is the file's (a `let`, a `def`, a model) or
the language's (a layer, a function). A binding is seen by the statements after its own, so
in ``x = Dense(8)(x)`` the ``x`` on the right is the previous one. Navigation and rename work
on symbols: one name in one scope.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from .. import syntax as S


@dataclass(eq=False)
class Scope:
    kind: str  # "file" | "model" | "def"
    name: str
    node: object
    names: set = field(default_factory=set)  # the names bound in it


@dataclass(eq=False)
class Occ:
    """One occurrence of a name: where, in which scope, bound or used there."""

    name: str
    span: object  # diagnostics.Span of the name's token
    scope: Scope
    order: int  # the statement's index: a binding is seen by the statements after it
    what: str  # "let" "def" "model" "param" "input" "assign" "output", "use", or "keyword"
    callee: str = ""  # a keyword argument's: the name called (a layer, a function, a def)

    @property
    def binds(self) -> bool:
        return self.what not in ("use", "keyword")


class Index:
    """Every occurrence of every name of ``tree`` (``None``: an empty index), in source order."""

    def __init__(self, tree: S.File | None):
        self.file = Scope("file", "", tree)
        self.scopes: list[Scope] = []
        self.occs: list[Occ] = []
        self.keywords: dict[int, list[Occ]] = {}  # by line: `units=` in calls (no symbols: names of arguments)
        if tree is not None:
            for i, item in enumerate(tree.items):
                self._item(item, i)
        self.occs.sort(key=lambda o: (o.span.line, o.span.col))
        self._starts = [(o.span.line, o.span.col) for o in self.occs]
        self._by_name: dict[str, list[Occ]] = {}
        for o in self.occs:
            self._by_name.setdefault(o.name, []).append(o)

    # -- building ----------------------------------------------------------------------
    def _add(self, name, span, scope, order, what):
        if span is None:
            return
        self.occs.append(Occ(name, span, scope, order, what))
        if what != "use":
            scope.names.add(name)

    def _item(self, item, i):
        f = self.file
        if isinstance(item, S.Let):
            self._expr(item.value, f, i)
            self._add(item.name, item.span, f, i, "let")
        elif isinstance(item, S.Def):
            self._add(item.name, item.span, f, i, "def")
            scope = Scope("def", item.name, item)
            self.scopes.append(scope)
            for name, span, default in item.params:
                self._add(name, span, scope, -1, "param")
                if default is not None:
                    self._expr(default, f, i)
            self._body(item.body, scope)
        elif isinstance(item, S.Model):
            self._add(item.name, item.name_span, f, i, "model")
            scope = Scope("model", item.name, item)
            self.scopes.append(scope)
            self._body(item.body, scope)

    def _body(self, body, scope):
        for i, stmt in enumerate(body):
            if isinstance(stmt, S.Input):
                for d in stmt.dims:
                    self._expr(d, scope, i)
                if stmt.name is not None:
                    self._add(stmt.name, stmt.span, scope, i, "input")
            elif isinstance(stmt, S.Assign):
                self._expr(stmt.value, scope, i)
                for name, span in stmt.targets:
                    self._add(name, span, scope, i, "assign")
            elif isinstance(stmt, S.Output):
                if stmt.value is not None:
                    self._expr(stmt.value, scope, i)
                self._add(stmt.name, stmt.span, scope, i, "output" if stmt.value is not None else "use")
            elif isinstance(stmt, S.Section):
                for _key, _span, value in stmt.entries:
                    self._expr(value, scope, i)
            elif isinstance(stmt, (S.Return, S.ExprStmt)):
                self._expr(stmt.value, scope, i)

    def _expr(self, e, scope, order):
        """Every name used in expression ``e`` (an explicit stack: expressions nest deeply)."""
        todo = [e]
        while todo:
            x = todo.pop()
            if isinstance(x, S.Name):
                self._add(x.id, x.span, scope, order, "use")
            elif isinstance(x, S.Call):
                todo += [x.func, *x.args, *(v for _n, _s, v in x.kwargs)]
                callee = x.func.id if isinstance(x.func, S.Name) else ""
                for name, span, _v in x.kwargs:
                    self.keywords.setdefault(span.line, []).append(Occ(name, span, scope, order, "keyword", callee))
            elif isinstance(x, S.DictExpr):
                todo += [v for _k, _s, v in x.pairs]
            elif isinstance(x, (S.ListExpr, S.TupleExpr)):
                todo += x.items
            elif isinstance(x, S.Chain):
                todo += x.stages
            elif isinstance(x, S.BinOp):
                todo += [x.left, x.right]
            elif isinstance(x, S.Neg):
                todo.append(x.operand)

    # -- queries -------------------------------------------------------------------------
    def at(self, line: int, col: int) -> Occ | None:
        """The occurrence whose name covers (line, col), 1-based; the end of a name counts too."""
        i = bisect.bisect_right(self._starts, (line, col)) - 1
        if i >= 0:
            o = self.occs[i]
            if o.span.line == line and o.span.col <= col <= o.span.col + len(o.name):
                return o
        return None

    def keyword_at(self, line: int, col: int) -> Occ | None:
        """The keyword argument's name at (line, col): ``units`` of ``ffn(h, units=8)``."""
        return next((k for k in self.keywords.get(line, ()) if k.span.col <= col <= k.span.col + len(k.name)), None)

    def symbol(self, occ: Occ):
        """``(scope, name)`` of the binding this occurrence means, or None for the language's names."""
        if occ.scope is not self.file and occ.name in occ.scope.names:
            return occ.scope, occ.name
        if occ.name in self.file.names:
            return self.file, occ.name
        return None

    def references(self, occ: Occ) -> list[Occ]:
        """Every occurrence of ``occ``'s symbol, bindings included, in source order."""
        sym = self.symbol(occ)
        if sym is None:
            return []
        out = [o for o in self._by_name.get(occ.name, ()) if self.symbol(o) == sym]
        scope = sym[0]
        if scope.kind == "def" and any(o.what == "param" for o in out):  # and `units=` in the def's calls
            out += [k for ks in self.keywords.values() for k in ks if k.callee == scope.name and k.name == occ.name]
            out.sort(key=lambda o: (o.span.line, o.span.col))
        return out

    def definition(self, occ: Occ) -> Occ | None:
        """The binding ``occ`` reads: itself for a binding, else the last one of an earlier
        statement of its scope (the first binding for a name used before it is bound); for a
        keyword argument of a def's call, the def's parameter."""
        if occ.binds:
            return occ
        if occ.what == "keyword":
            scope = self.scope_named("def", occ.callee)
            return next((o for o in self.occs if o.scope is scope and o.what == "param" and o.name == occ.name), None)
        sym = self.symbol(occ)
        if sym is None:
            return None
        bindings = [o for o in self.references(occ) if o.binds]
        if sym[0] is self.file or not bindings:
            return bindings[0] if bindings else None
        before = [o for o in bindings if o.order < occ.order]
        return before[-1] if before else bindings[0]

    def visible(self, scope: Scope | None, line: int) -> list[Occ]:
        """The bindings a statement on ``line`` of ``scope`` may use (the latest of each name),
        then the file's lets, defs and models."""
        seen: dict[str, Occ] = {}
        if scope is not None and scope is not self.file:
            for o in self.occs:
                if o.scope is scope and o.binds and o.span.line < line:
                    seen[o.name] = o
        for o in self.occs:
            if o.scope is self.file and o.binds and o.name not in seen:
                seen[o.name] = o
        return list(seen.values())

    def scope_named(self, kind: str, name: str) -> Scope | None:
        return next((s for s in self.scopes if s.kind == kind and s.name == name), None)
