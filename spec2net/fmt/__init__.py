"""spec2net's formatter: one canonical layout for `.net` files (docs/language.md, "Style").

It works on the lexer's tokens, comments included (``tokens.py``), so every literal, name and
parenthesis stays as written and only the blanks, line breaks, ``;`` and trailing commas
change; the layout of a statement is a Wadler document (``doc.py``), that of a file its blocks
and comments (``layout.py``). Each result is parsed again and compared with the original, tree
and comments: the formatter cannot silently change what a spec means.
"""

from __future__ import annotations

from dataclasses import fields

from .. import syntax as S
from ..diagnostics import Span, SpecError
from ..parser import parse
from .layout import layout
from .tokens import comments, lex, structure

__all__ = ["format_text", "same_tree"]


class LayoutError(RuntimeError):
    """The formatter would have changed a spec's meaning or lost a comment: a bug of ours."""


def format_text(text: str, filename: str = "<stdin>") -> str:
    """``text`` in the canonical layout; SpecError (as `check` reports it) if it does not parse.

    >>> format_text("model m{input a:[4];output b=Dense(2,activation=relu)(a)}")
    'model m { input a: [4]; output b = Dense(2, activation=relu)(a) }\\n'
    """
    text = text.removeprefix("\ufeff")
    tree, diags = parse(text, filename)
    if tree is None or diags:  # a syntax error, or a literal without a value (1e999): refused whole
        raise SpecError(diags, {filename: text.split("\n")})
    tokens = lex(text)
    out = layout(structure(tokens))
    again, problems = parse(out, filename)
    if again is None or problems or not same_tree(tree, again):
        raise LayoutError(f"{filename}: formatting would change the spec's meaning (a bug: please report it)")
    if comments(tokens) != comments(lex(out)):
        raise LayoutError(f"{filename}: formatting would lose or move a comment (a bug: please report it)")
    return out


def same_tree(a, b) -> bool:
    """Whether two ASTs are the same but for their spans (an explicit stack: any depth)."""
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        if type(x) is not type(y):
            return False
        if isinstance(x, Span):
            continue
        if isinstance(x, S.Node):
            stack.extend((getattr(x, f.name), getattr(y, f.name)) for f in fields(x) if f.compare)
        elif isinstance(x, (list, tuple)):
            if len(x) != len(y):
                return False
            stack.extend(zip(x, y))
        elif x != y:
            return False
    return True
