"""Arithmetic in a spec (``let maxlen = digits + digits + 1``): Python's operators and
precedence on int64 integers and finite float64 floats, every failure a located error.

``/`` gives a float, the others keep ints when both sides are ints (``**`` with a negative
integer exponent gives a float, as in Python). A result must be a value a literal could
be: an integer within int64, a finite float; so no operation ever builds a huge integer
(``2 ** 10**9`` is refused before it is computed).

A float that arithmetic made is a ``Computed``, which remembers its expression's span: where
an integer belongs (``Dense(n / 2)``, a shape) it is an error there, while the literal
``Dense(8.0)`` stays accepted as Keras accepts it.

    >>> binary("//", 7, 2), binary("/", 7, 2), binary("**", 2, -1)
    (3, 3.5, 0.5)
"""

from __future__ import annotations

import math
import operator

from . import ir
from . import messages as M
from .diagnostics import from_problem, suggest
from .messages import Problem
from .registry import REGISTRIES
from .registry.types import INT_MAX, Sym
from .values import ERR, QMARK, LayerClass, LayerValue, show

_OPS = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
        "//": operator.floordiv, "%": operator.mod, "**": operator.pow}
# Keras lets `a + b` on tensors make a layer; a spec names the merge layer.
_TENSOR_HINTS = {"+": "add([a, b])", "-": "subtract([a, b])", "*": "multiply([a, b])"}


class Computed(float):
    """A float made by arithmetic; ``span`` is where its expression is written."""

    __slots__ = ("span",)


def made_where(value: Computed, span) -> tuple:
    """Where to report ``value`` refused at ``span``: its own expression if written there
    (``Dense(n / 2)``), else ``span`` and the ``at`` field naming the expression (a `let`'s)."""
    s = value.span
    inside = s.file == span.file and (s.line, s.col) >= (span.line, span.col) and \
        (s.end_line, s.end_col) <= (span.end_line, span.end_col)
    return (s, "") if inside else (span, f" (computed at {s.line}:{s.col})")


def binary(op: str, a, b):
    """``a op b`` for two numbers (int or float, never bool); Problem if it has no int64/float64 value."""
    if op in ("/", "//", "%") and b == 0:
        raise Problem(M.DIVISION_BY_ZERO, expr=_expr(op, a, b))
    if op == "**":
        _check_power(a, b)
    try:
        value = _OPS[op](a, b)
    except ZeroDivisionError:  # 0 ** -1, 0.0 ** -0.5
        raise Problem(M.DIVISION_BY_ZERO, expr=_expr(op, a, b)) from None
    except OverflowError:  # 10.0 ** 400
        raise Problem(M.FLOAT_OVERFLOW, expr=_expr(op, a, b)) from None
    return _checked(value, op, a, b)


def negate(a):
    """``-a`` for a number (-(-2**63) is past int64; no int literal reaches it, a Python define could)."""
    return _checked(-a, "-", 0, a)


def _check_power(a, b) -> None:
    if isinstance(a, int) and isinstance(b, int) and b > 0 and abs(a) > 1 and b * math.log2(abs(a)) > 64:
        raise Problem(M.INT_OVERFLOW, expr=_expr("**", a, b), largest=INT_MAX)
    if a < 0 and isinstance(b, float) and not b.is_integer():
        raise Problem(M.COMPLEX_POWER, expr=_expr("**", a, b))


def _checked(value, op, a, b):
    if isinstance(value, int):
        if abs(value) > INT_MAX:
            raise Problem(M.INT_OVERFLOW, expr=_expr(op, a, b), largest=INT_MAX)
    elif not math.isfinite(value):
        raise Problem(M.FLOAT_OVERFLOW, expr=_expr(op, a, b))
    return value


def _expr(op, a, b) -> str:
    return f"{_operand(a)} {op} {_operand(b)}"


def _operand(x) -> str:
    return f"({show(x)})" if x < 0 else show(x)  # (-8) ** 0.5, as it would have to be written


class Arithmetic:
    """The builder's evaluation of ``BinOp`` and ``Neg`` (a mixin of ``builder.ModelBuilder``, whose
    ``_eval`` and ``diags`` it uses); generators for ``trampoline.run``, so ``1 + 1 + ... + 1``
    nests as deep as it likes."""

    def eval_BinOp(self, e, env):
        left = yield self._eval(e.left, env)
        right = yield self._eval(e.right, env)
        if isinstance(left, ir.Tensor) and isinstance(right, ir.Tensor):  # `a + b`: one mistake, one error
            return self.operand(left, e, e.op, env)
        a, b = self.operand(left, e.left, e.op, env), self.operand(right, e.right, e.op, env)
        if a is ERR or b is ERR:
            return ERR
        return self._computed(e.span, binary, e.op, a, b)

    def eval_Neg(self, e, env):
        value = yield self._eval(e.operand, env)
        a = self.operand(value, e.operand, "-", env)
        return ERR if a is ERR else self._computed(e.span, negate, a)

    def _computed(self, span, fn, *args):
        try:
            value = fn(*args)
        except Problem as p:
            self.diags.append(from_problem(span, p))
            return ERR
        if isinstance(value, float):
            value = Computed(value)
            value.span = span
        return value

    def operand(self, v, node, op, env):
        """``v`` if it is a number, else ERR with the error reported at ``node``."""
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return v
        if v is ERR:
            return ERR
        if v is QMARK:
            return self.err(node.span, M.ARITH_OPERAND, op=op, value="?", hint="")
        hint = ""
        if isinstance(v, Sym) and not any(v.name in table for table in REGISTRIES.values()):
            names = [k for k, x in env.items() if isinstance(x, (int, float)) and not isinstance(x, bool)]
            return self.err(node.span, M.NAME_DEFINED, name=v.name, hint=suggest(v.name, names))
        if isinstance(v, ir.Tensor) or (isinstance(v, tuple) and v and isinstance(v[0], ir.Tensor)):
            merge = _TENSOR_HINTS.get(op)
            what = "a tensor"
            hint = f"; tensors are combined by a layer, like {merge}" if merge else "; tensors go through layers"
        else:
            what = "a layer" if isinstance(v, (LayerValue, LayerClass)) else show(v)
        return self.err(node.span, M.ARITH_OPERAND, op=op, value=what, hint=hint)
