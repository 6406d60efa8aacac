"""The AST: dataclasses that carry their source span, built while Lark parses.

Slotted: a node without a ``__dict__`` is one object for the cyclic GC to scan instead of two,
which is a third of a 10,000-layer spec's load time (spec2net never pauses the GC).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from .diagnostics import Span


@dataclass(slots=True)
class Node:
    span: Span = field(repr=False, compare=False)


# -- expressions ---------------------------------------------------------------
@dataclass(slots=True)
class Name(Node):
    id: str


@dataclass(slots=True)
class Const(Node):
    """A number, string, bool or none literal."""

    value: object


@dataclass(slots=True)
class Unknown(Node):
    """The `?` of a shape."""


@dataclass(slots=True)
class ListExpr(Node):
    items: list


@dataclass(slots=True)
class TupleExpr(Node):
    items: list


@dataclass(slots=True)
class DictExpr(Node):
    pairs: list  # [(key str, key Span, Expr)]


@dataclass(slots=True)
class Call(Node):
    func: Node
    args: tuple
    kwargs: tuple  # ((name, Span, Expr), ...)
    paren: Span = field(repr=False, compare=False, default=None)


@dataclass(slots=True)
class BinOp(Node):
    """``left op right`` for the arithmetic operators ``+ - * / // % **``."""

    op: str
    left: Node
    right: Node
    op_span: Span = field(repr=False, compare=False, default=None)


@dataclass(slots=True)
class Neg(Node):
    """Unary minus of an expression (a minus before a number literal is folded into the Const)."""

    operand: Node


@dataclass(slots=True)
class Chain(Node):
    """``t -> L1 -> L2``: each stage applied to the previous result."""

    stages: list


# -- statements ----------------------------------------------------------------
@dataclass(slots=True)
class Input(Node):
    name: str | None
    dtype: str | None
    dtype_span: Span | None
    dims: list


@dataclass(slots=True)
class Assign(Node):
    targets: tuple  # ((name, Span), ...)
    value: Node


@dataclass(slots=True)
class Output(Node):
    name: str
    value: Node | None


@dataclass(slots=True)
class Return(Node):
    value: Node


@dataclass(slots=True)
class Section(Node):
    """A ``compile { ... }`` or ``fit { ... }`` block."""

    kind: str
    entries: list  # [(key, Span, Expr)]


@dataclass(slots=True)
class ExprStmt(Node):
    value: Node


# -- top level -----------------------------------------------------------------
@dataclass(slots=True)
class Let(Node):
    name: str
    value: Node


@dataclass(slots=True)
class Model(Node):
    kind: str  # "model" | "sequential"
    name: str
    body: list
    name_span: Span = field(repr=False, compare=False, default=None)


@dataclass(slots=True)
class Def(Node):
    name: str
    params: list  # [(name, Span, default Expr | None)]
    body: list


@dataclass(slots=True)
class File(Node):
    items: list


def children(node: Node) -> list:
    """The field values of ``node`` (without its span): ``children(Return(span, x)) == [x]``."""
    return [getattr(node, f.name) for f in fields(node) if f.name != "span"]
