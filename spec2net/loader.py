"""Reading a spec file: bytes -> text -> AST -> checked IR, every error collected."""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from . import ir, literals
from . import messages as M
from .checker import check_file
from .diagnostics import Diagnostic, Span, SpecError, diag, suggest
from .fileio import MAX_SPEC_SIZE, read_limited
from .parser import parse


def read_source(path: str | Path, max_size: int = MAX_SPEC_SIZE) -> tuple[str | None, list[Diagnostic]]:
    """The file's text, or a clean diagnostic for an unreadable, binary or non-UTF-8 file.
    A device, a FIFO or a file over ``max_size`` bytes is a PathError (fileio.read_limited)."""
    name = str(path)
    data = read_limited(path, max_size)  # OSError and PathError are the caller's (a usage error, exit 2)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or _utf16_ascii(data):
        return None, [diag(Span(name, 1, 1), M.ENCODING_UTF16)]
    if b"\0" in data:
        return None, [diag(Span(name, 1, 1), M.BINARY)]
    # The BOM is dropped by hand: "utf-8-sig" would count an error's position from after it.
    body = data.removeprefix(codecs.BOM_UTF8)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        line = body[: e.start].count(b"\n") + 1
        start = body.rfind(b"\n", 0, e.start) + 1
        col = len(body[start: e.start].decode("utf-8")) + 1  # in characters, as the lexer counts them
        return None, [diag(Span(name, line, col), M.ENCODING_BYTE, byte=body[e.start])]
    return text, []


def _utf16_ascii(data: bytes) -> bool:
    """ASCII text saved as UTF-16 without a BOM: a NUL after (or before) every character."""
    head = data[:200]
    return len(head) >= 8 and (head[1::2].count(0) == len(head) // 2 or head[0::2].count(0) == (len(head) + 1) // 2)


# The grammar's NUMBER and NAME, so -D reads a value as a spec would: `1_000` is a string, `inf` a name.
NUMBER = re.compile(r"-?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?")
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def parse_define(text: str):
    """``-D NAME=VALUE``'s value as the spec would read it: number, bool, none, name or string."""
    from .registry.types import Sym

    low = {"true": True, "false": False, "none": None}
    if text in low:
        return low[text]
    if NUMBER.fullmatch(text):
        return literals.number(text)  # LiteralError (a ValueError) out of int64/float64 range, as in a spec
    return Sym(text) if NAME.fullmatch(text) else text


def check_text(text: str, file: str, defines: dict | None = None) -> tuple[dict, list[Diagnostic]]:
    """Parse and check spec text: ``(models by name, diagnostics)``.

    Nothing process-wide changes (the GC, the recursion limit, thread stacks): the parser and
    the builder keep their own stacks, so a spec nested 10,000 deep needs no deep Python stack.
    """
    tree, diags = parse(text, file)
    return check_tree(tree, diags, file, defines)


def check_tree(tree, diags: list, file: str, defines: dict | None = None, builder=None,
               ) -> tuple[dict, list[Diagnostic]]:
    """``check_text`` after its parse: the parse's ``(tree, diags)`` -> ``(models, diagnostics)``.
    The language server calls it with the tree it keeps and its recording ``builder``."""
    if tree is None:
        return {}, diags
    if not tree.items:
        return {}, [diag(Span(file, 1, 1), M.EMPTY)]
    models = check_file(tree, file, dict(defines or {}), diags, **({"builder": builder} if builder else {}))
    # In source order, as a reader meets them (the checker finds some, like unused inputs, at the end).
    diags.sort(key=lambda d: (d.span.line, d.span.col) if d.span else (0, 0))
    # A def's body is checked at each of its calls: one mistake there is one diagnostic.
    seen: set = set()
    diags = [d for d in diags if (k := (d.span, d.code, d.message, d.severity)) not in seen and not seen.add(k)]
    return models, diags


def select(models: dict, model: str | None, file: str) -> ir.Model:
    """The model ``--model`` names, else the only or last one."""
    if model is None:
        return list(models.values())[-1]
    if model not in models:
        raise SpecError([diag(Span(file, 0, 0), M.NO_SUCH_MODEL, name=model, models=", ".join(models),
                              hint=suggest(model, models))])
    return models[model]


def load_model(path, model=None, defines=None, max_size: int = MAX_SPEC_SIZE,
               ) -> tuple[ir.Model, list[Diagnostic], list[str]]:
    """Check a file and pick one model; raise SpecError with every error of the file."""
    text, diags = read_source(path, max_size)
    lines = text.split("\n") if text is not None else []  # as the lexer counts lines: "\r" or "\u2028" end none
    models = {}
    if text is not None:
        models, diags = check_text(text, str(path), defines)
    errors = [d for d in diags if d.severity == "error"]
    if errors or not models:
        raise SpecError(diags, {str(path): lines})
    try:
        return select(models, model, str(path)), diags, lines
    except SpecError as e:
        e.sources = {str(path): lines}
        raise
