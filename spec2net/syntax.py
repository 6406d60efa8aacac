"""The AST: dataclasses that carry their source span, built while Lark parses."""

from __future__ import annotations

from dataclasses import dataclass, field

from .diagnostics import Span


@dataclass
class Node:
    span: Span = field(repr=False, compare=False)


# -- expressions ---------------------------------------------------------------
@dataclass
class Name(Node):
    id: str


@dataclass
class Const(Node):
    """A number, string, bool or none literal."""

    value: object


@dataclass
class Unknown(Node):
    """The `?` of a shape."""


@dataclass
class ListExpr(Node):
    items: list


@dataclass
class TupleExpr(Node):
    items: list


@dataclass
class DictExpr(Node):
    pairs: list  # [(key str, key Span, Expr)]


@dataclass
class Call(Node):
    func: Node
    args: list
    kwargs: list  # [(name, Span, Expr)]
    paren: Span = field(repr=False, compare=False, default=None)


@dataclass
class Chain(Node):
    """``t -> L1 -> L2``: each stage applied to the previous result."""

    stages: list


# -- statements ----------------------------------------------------------------
@dataclass
class Input(Node):
    name: str | None
    dtype: str | None
    dtype_span: Span | None
    dims: list


@dataclass
class Assign(Node):
    targets: list  # [(name, Span)]
    value: Node


@dataclass
class Output(Node):
    name: str
    value: Node | None


@dataclass
class Return(Node):
    value: Node


@dataclass
class Section(Node):
    """A ``compile { ... }`` or ``fit { ... }`` block."""

    kind: str
    entries: list  # [(key, Span, Expr)]


@dataclass
class ExprStmt(Node):
    value: Node


# -- top level -----------------------------------------------------------------
@dataclass
class Let(Node):
    name: str
    value: Node


@dataclass
class Model(Node):
    kind: str  # "model" | "sequential"
    name: str
    body: list
    name_span: Span = field(repr=False, compare=False, default=None)


@dataclass
class Def(Node):
    name: str
    params: list  # [(name, Span, default Expr | None)]
    body: list


@dataclass
class File(Node):
    items: list
