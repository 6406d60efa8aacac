"""A small layout engine for generated Python: calls and literals on one line when they fit,
else one argument per line with a trailing comma, as black would write them.

An expression is a ``str`` (source already written, e.g. by ``py_literal``), a ``Call`` or a
``Seq`` (a list, tuple or dict display); ``render`` lays it out at a given indentation.
"""

from __future__ import annotations

from dataclasses import dataclass

WIDTH = 99  # PEP 8's limit for code, so ruff passes under any line-length setting >= 99


@dataclass(frozen=True)
class Call:
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


def flat(expr) -> str:
    """The one-line form: ``flat(Call("f", (("a", "1"),)))`` -> ``'f(a=1)'``."""
    if isinstance(expr, str):
        return expr
    if isinstance(expr, Call):
        return f"{expr.func}(" + ", ".join(_arg(k, flat(v)) for k, v in expr.args) + ")"
    items = [f"{k}: {flat(v)}" for k, v in expr.items] if expr.is_dict else [flat(v) for v in expr.items]
    trailing = "," if expr.open == "(" and len(items) == 1 else ""
    return expr.open + ", ".join(items) + trailing + expr.close


def render(expr, indent: int = 0, before: int = 0, after: int = 0) -> str:
    """``expr`` laid out for a line that starts at column ``indent`` with ``before`` characters
    already on it and ``after`` characters to follow it.

    >>> print(render(Call("f", (("alpha", "1"), ("beta", "2"))), indent=0, before=85))
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
    opening = f"{expr.func}(" if isinstance(expr, Call) else expr.open
    closing = ")" if isinstance(expr, Call) else expr.close
    return opening + "\n" + "\n".join(lines) + "\n" + " " * indent + closing


def _parts(expr):
    if isinstance(expr, Call):
        return expr.args
    return expr.items if expr.is_dict else tuple((None, v) for v in expr.items)


def _arg(key, src):
    return src if key is None else f"{key}={src}"
