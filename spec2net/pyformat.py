"""The one layout engine for generated Python, shared by the Keras and torch backends: calls and
displays on one line when they fit in 99 columns, else one argument per line with a trailing
comma, and strings in double quotes, as black and ruff-format write them.

An expression is a ``str`` (source already written, e.g. by ``codegen.py_literal``), a
``CallExpr`` or a ``Seq`` (a list, tuple or dict display); ``render`` lays it out at a given
indentation and ``assign`` writes a whole ``target = expression`` statement.

>>> print(assign("y", CallExpr("layers.Dense", (("units", "8"), ("name", quote("dense"))))))
y = layers.Dense(units=8, name="dense")
"""

from __future__ import annotations

from dataclasses import dataclass

WIDTH = 99  # PEP 8's limit for code, so ruff passes under any line-length setting >= 99


@dataclass(frozen=True)
class CallExpr:
    """``func(k=v, ...)``; a ``None`` keyword is a positional argument."""

    func: str
    args: tuple = ()  # ((keyword or None, expr), ...)


@dataclass(frozen=True)
class Seq:
    """A display: ``Seq("[", "]", items)``, ``Seq("{", "}", ((key_src, expr), ...))`` for a dict."""

    open: str
    close: str
    items: tuple = ()  # (expr, ...) or, for a dict, ((key source, expr), ...)

    @property
    def is_dict(self) -> bool:
        return self.open == "{"


def quote(text: str) -> str:
    """``text`` as a string literal in black's style: double quotes unless the text holds a double
    quote (then ``repr``'s single quotes, which need no escape for it).

    >>> print(quote("relu"), quote("it's"), quote('say "hi"'))
    "relu" "it's" 'say "hi"'
    """
    r = repr(text)
    # repr picks single quotes unless the text has a single quote and no double one; its body
    # then escapes only backslashes and non-printables, the same inside double quotes
    return '"' + r[1:-1] + '"' if r[0] == "'" and '"' not in text else r


def flat(expr) -> str:
    """The one-line form: ``flat(CallExpr("f", (("a", "1"),)))`` -> ``'f(a=1)'``."""
    if isinstance(expr, str):
        return expr
    if isinstance(expr, CallExpr):
        return f"{expr.func}(" + ", ".join(_arg(k, flat(v)) for k, v in expr.args) + ")"
    items = [f"{k}: {flat(v)}" for k, v in expr.items] if expr.is_dict else [flat(v) for v in expr.items]
    trailing = "," if expr.open == "(" and len(items) == 1 else ""
    return expr.open + ", ".join(items) + trailing + expr.close


def render(expr, indent: int = 0, before: int = 0, after: int = 0) -> str:
    """``expr`` laid out for a line that starts at column ``indent`` with ``before`` characters
    already on it and ``after`` characters to follow it.

    >>> print(render(CallExpr("f", (("alpha", "1"), ("beta", "2"))), indent=0, before=85))
    f(
        alpha=1,
        beta=2,
    )
    """
    one = flat(expr)
    if isinstance(expr, str) or indent + before + len(one) + after <= WIDTH or not _parts(expr):
        return one
    pad = " " * (indent + 4)
    lines = []
    for key, value in _parts(expr):
        head = "" if key is None else (f"{key}: " if isinstance(expr, Seq) else f"{key}=")
        lines.append(pad + head + render(value, indent + 4, len(head), 1) + ",")
    opening = f"{expr.func}(" if isinstance(expr, CallExpr) else expr.open
    closing = ")" if isinstance(expr, CallExpr) else expr.close
    return opening + "\n" + "\n".join(lines) + "\n" + " " * indent + closing


def assign(target: str, expr, indent: int = 0, after: str = "") -> str:
    """The statement ``target = expr`` + ``after`` (``after`` follows the expression on its last
    line, e.g. a call's ``(x)``); ``target`` empty gives the bare expression statement.

    >>> print(assign("seq, h", CallExpr("layers.LSTM", (("units", "4"),)), after="(x)"))
    seq, h = layers.LSTM(units=4)(x)
    """
    head = f"{target} = " if target else ""
    return head + render(expr, indent, len(head), len(after)) + after


def _parts(expr):
    if isinstance(expr, CallExpr):
        return expr.args
    return expr.items if expr.is_dict else tuple((None, v) for v in expr.items)


def _arg(key, src):
    return src if key is None else f"{key}={src}"
