"""Statements and blocks -> lines: indentation, blank lines, one-line blocks, comments.

The rules (docs/language.md, "Style"): four blanks per block; one statement per line; one blank
line around each top-level `model`, `sequential` and `def` of several lines, elsewhere the
source's blank lines kept, at most one, none after `{` or before `}`; a block written on one
line stays on one line if it fits (`fit { epochs = 5; batch_size = 32 }`); comments stay where
they were, and the comments ending consecutive lines of one block are aligned, two blanks after
the longest line.
"""

from __future__ import annotations

from .doc import INDENT, WIDTH, build, flat, render
from .tokens import Block, Stmt

_BLANK = ("", None)


def layout(root: Block) -> str:
    """The formatted text of a file's structure (``tokens.structure``)."""
    lines: list[tuple[str, str | None]] = []  # (code with its indent, the comment after it)
    _body(root, 0, lines, top=True)
    _align(lines)
    return "".join(f"{code}{comment or ''}".rstrip() + "\n" for code, comment in lines)


def _body(block: Block, indent: int, out: list, top: bool) -> None:
    pad = " " * indent
    before = None  # the statement before, in this body
    apart = False  # whether it was a block over several lines, which stands apart at the top level
    for stmt in block.body:
        lines: list = []
        _stmt(stmt, indent, lines)
        blank = stmt.leading[0].blank if stmt.leading else stmt.blank
        spread = stmt.block is not None and len(lines) > 1
        if before is not None and (blank or (top and (apart or spread))):
            out.append(_BLANK)
        for k, comment in enumerate(stmt.leading):
            if k and comment.blank:
                out.append(_BLANK)
            out.append((pad + comment.text, None))
        if stmt.leading and stmt.blank:
            out.append(_BLANK)
        out += lines
        before, apart = stmt, spread
    for k, comment in enumerate(block.end):
        if (before is not None or k) and (comment.blank or (k == 0 and top and apart)):
            out.append(_BLANK)
        out.append((pad + comment.text, None))


def _stmt(stmt: Stmt, indent: int, out: list) -> None:
    doc, block = build(stmt.tokens), stmt.block
    if block is None:
        _emit(out, indent, render(doc, indent), stmt.trailing)
        return
    if not block.body and not block.end and block.open_trailing is None:
        _emit(out, indent, render([doc, " {}"], indent), stmt.trailing)
        return
    if block.open_line == block.close_line:  # written on one line: kept so when it fits
        one = _one_line(stmt)
        if one is not None and indent + len(one) <= WIDTH:
            out.append((" " * indent + one, _trailing(stmt.trailing)))
            return
    _emit(out, indent, render([doc, " {"], indent), block.open_trailing)
    _body(block, indent + INDENT, out, top=False)
    out.append((" " * indent + "}", _trailing(stmt.trailing)))


def _one_line(stmt: Stmt) -> str | None:
    """``compile { optimizer = adam; loss = mse }``; None when a comment needs its own line."""
    block = stmt.block
    if block.end or block.open_trailing or any(t.type == "COMMENT" for t in stmt.tokens):
        return None
    parts = []
    for inner in block.body:
        if inner.leading or inner.trailing or any(t.type == "COMMENT" for t in inner.tokens):
            return None
        part = _one_line(inner) if inner.block is not None else flat(build(inner.tokens))
        if part is None:
            return None
        parts.append(part)
    head = flat(build(stmt.tokens))
    return f"{head} {{ {'; '.join(parts)} }}" if parts else f"{head} {{}}"


def _emit(out: list, indent: int, text: str, trailing: str | None) -> None:
    lines = text.split("\n")
    lines[0] = " " * indent + lines[0]
    out.extend((line, None) for line in lines[:-1])
    out.append((lines[-1], _trailing(trailing)))


def _trailing(comment: str | None) -> str | None:
    return None if comment is None else "  " + comment


def _align(lines: list) -> None:
    """Comments ending consecutive lines of one indentation start in one column (as gofmt's)."""
    k = 0
    while k < len(lines):
        code, comment = lines[k]
        if comment is None:
            k += 1
            continue
        indent = len(code) - len(code.lstrip(" "))
        end = k
        while end < len(lines) and lines[end][1] is not None and \
                len(lines[end][0]) - len(lines[end][0].lstrip(" ")) == indent:
            end += 1
        width = max(len(lines[j][0]) for j in range(k, end))
        for j in range(k, end):
            lines[j] = (lines[j][0].ljust(width), lines[j][1])
        k = end
