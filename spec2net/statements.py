"""The builder's statements and def calls: assignments and unpacking, a model's inputs, and the
body of a called def. A mixin of ``builder.ModelBuilder``, whose ``_eval``, ``err``, ``step``,
``globals`` and scopes it uses; like the evaluator, the generators here are driven by
``trampoline.run``, so defs may call defs to any depth.
"""

from __future__ import annotations

from . import ir
from . import messages as M
from . import syntax as S
from .arith import Computed, made_where
from .diagnostics import from_problem, suggest
from .registry import ShapeError
from .registry.types import INT_MAX, FCall, Sym
from .trampoline import run
from .values import ERR, QMARK, show

DTYPES = ("float16", "float32", "float64", "bfloat16", "int8", "int16", "int32", "int64", "uint8", "bool")


class Statements:
    """Statements and def calls of ``ModelBuilder`` (see the module's docstring)."""

    # -- def blocks -------------------------------------------------------------------
    def call_def(self, d, pos, kw, span):
        """The def's result: a generator for ``run`` (its body evaluates nested expressions)."""
        if d.name in self.recursive:
            return ERR  # reported once, where the def is declared
        params = [(p, None if default is None else default) for p, _, default in d.params]
        names = [p for p, _ in params]
        bound, ok = {}, True
        if len(pos) > len(params):
            return self.err(pos[len(params)][1], M.TOO_MANY_ARGS, owner=f"def '{d.name}'", n=len(params),
                            got=len(pos))
        for (p, _), (v, _s) in zip(params, pos):
            bound[p] = v
        for n, ns, v, _s in kw:
            if n not in names:
                ok = False
                self.err(ns, M.UNKNOWN_ARG, owner=f"def '{d.name}'", name=n, hint=suggest(n, names))
            elif n in bound:
                ok = False
                self.err(ns, M.DUPLICATE_ARG, owner=f"def '{d.name}'", name=n)
            else:
                bound[n] = v
        for p, default in params:
            if p not in bound:
                if default is None:
                    ok = False
                    self.err(span, M.MISSING_ARG, owner=f"def '{d.name}'", name=p)
                else:
                    bound[p] = yield self._eval(default, dict(self.globals))
        if not ok:
            return ERR
        env = {**self.globals, **bound}
        self.step(span)
        self.stack.append(d.name)
        self.call_spans.append(span)
        outer, self.cur_env = self.cur_env, env
        try:
            for stmt in d.body:
                if isinstance(stmt, S.Return):
                    return (yield self._eval(stmt.value, env))
                yield self._statement(stmt, env, in_def=d.name)
        finally:
            self.stack.pop()
            self.call_spans.pop()
            self.cur_env = outer
        return ERR  # a def without `return`: reported once, where it is declared

    # -- wrappers -----------------------------------------------------------------------
    def take_inner(self, defn, bound, name, span):
        """A wrapper's layer arguments, written inline, become its own: each ``ir.Layer`` leaves the
        model's list (the wrapper holds its weights) and can no longer be applied on its own."""
        out = dict(bound)
        for key in defn.layer_args:
            lv = bound.get(key)
            if lv is None:
                continue
            inner = lv.layer
            if id(inner) in self.wrapped or inner.nodes or id(inner) in self.attempted:
                what = f"wrapped by '{self.wrapped[id(inner)][0]}'" if id(inner) in self.wrapped else "applied"
                return self.err(inner.span, M.WRAPPED_TWICE, name=inner.name, what=what)
            self.wrapped[id(inner)] = (name, inner)  # the layer kept alive, so that its id stays its own
            self.layers.remove(inner)  # near the end: the inner layer was built just before
            out[key] = inner
        try:
            return defn.adopt(out, name)
        except ShapeError as e:
            self.diags.append(from_problem(span, e))
            return ERR

    # -- statements -------------------------------------------------------------------
    def statement(self, stmt, env):
        """Run one statement of a model body."""
        run(self._statement(stmt, env))

    def _statement(self, stmt, env, in_def=None):
        if isinstance(stmt, S.Assign):
            value = yield self._eval(stmt.value, env)
            if isinstance(value, FCall) and self.unknown_callable(value, stmt.value.span):
                value = ERR  # `enc = Denes(8)`: reported here, even if never applied, and only here
            self.bind_targets(stmt, value, env)
        elif in_def is not None:
            what = type(stmt).__name__.lower()
            self.err(stmt.span, M.NOT_IN_DEF, what=what, name=in_def)
        elif isinstance(stmt, S.Return):
            self.err(stmt.span, M.RETURN_OUTSIDE_DEF)
        elif isinstance(stmt, S.ExprStmt):
            self.unknown_callees(stmt.value, env)
            self.err(stmt.span, M.RESULT_UNUSED)

    def bind_targets(self, stmt, value, env):
        targets = stmt.targets
        if len(targets) == 1:
            env[targets[0][0]] = _named(value, targets[0][0])
            return
        if value is ERR:
            for name, _ in targets:
                env[name] = ERR
            return
        n = len(value) if isinstance(value, tuple) else 1
        if n != len(targets):
            self.err(targets[0][1], M.UNPACK_COUNT, n=len(targets), got=n, hint=_state_hint(value))
            for name, _ in targets:
                env[name] = ERR
            return
        for (name, _), v in zip(targets, value):
            env[name] = _named(v, name)

    def make_input(self, stmt, name, env):
        dtype = stmt.dtype or "float32"
        if dtype not in DTYPES:
            self.err(stmt.dtype_span, M.UNKNOWN_DTYPE, name=dtype, hint=suggest(dtype, DTYPES))
            dtype = "float32"
        dims = []
        for d in stmt.dims:
            v = self.eval(d, env)
            if v is QMARK:
                dims.append(None)
            elif isinstance(v, Sym):
                self.err(d.span, M.NAME_DEFINED, name=v.name, hint=suggest(v.name, self.globals))
                dims.append(None)
            elif isinstance(v, Computed):  # `[n / 2]`: located at the expression, with the `//` hint
                where, at = made_where(v, d.span)
                self.err(where, M.DIM_FROM_FLOAT, value=show(v), at=at)
                dims.append(None)
            elif isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= INT_MAX:
                if v is not ERR:
                    self.err(d.span, M.BAD_DIMENSION, value=show(v))
                dims.append(None)
            else:
                dims.append(v)
        tensor = ir.Tensor(ir.TensorType(dtype, tuple(dims)), input_name=name, name=name)
        self.inputs.append(tensor)
        self.input_spans[name] = stmt.span
        return tensor


def _named(value, name):
    """``value``, with ``name`` recorded on it if it is a tensor the spec has not named yet."""
    if isinstance(value, ir.Tensor) and value.name is None:
        value.name = name
    return value


def _state_hint(value) -> str:
    if isinstance(value, ir.Tensor) and value.producer is not None:
        layer = value.producer.layer
        if "return_state" in layer.args and not layer.args["return_state"]:
            return " (set return_state=true to get the states)"
    return ""

