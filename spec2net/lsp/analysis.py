"""One analysis of a document: the compiler's own parse and check, plus what each name evaluated to.

``analyze(text, file)`` runs ``parser.parse`` and ``loader.check_tree`` once, with a ModelBuilder
subclass that records the value of every name it evaluates, every binding and every layer it
builds, keyed by source position: hovers read those values, never a second evaluation. A file
with a syntax error keeps that error's diagnostics, and is analysed again cut before the error
(open blocks closed), so that everything before it still has hovers and completions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import ir
from .. import syntax as S
from ..builder import ModelBuilder
from ..diagnostics import Diagnostic
from ..loader import check_tree
from ..parser import parse
from ..values import LayerValue
from .scopes import Index


class Record:
    """What the checker's evaluators met, by (line, col) of the source span; the first value wins
    (a def's body is evaluated at each call: its names show what the first call gave them)."""

    def __init__(self):
        self.values: dict = {}  # (line, col) of a name or binding -> its value
        self.layers: dict = {}  # (line, col) of a layer's construction -> LayerValue
        self.lets: dict = {}  # the `let` constants, as the checker evaluated them

    def builder(self, *args) -> ModelBuilder:
        return Recorder(self, *args)


class Recorder(ModelBuilder):
    """A ModelBuilder that writes what it evaluates into a Record; it changes no result."""

    def __init__(self, record: Record, *args):
        super().__init__(*args)
        self.record = record
        record.lets = self.globals  # the same dict the checker fills with the lets' values

    def eval_Name(self, e, env):
        value = super().eval_Name(e, env)
        self.record.values.setdefault((e.span.line, e.span.col), value)
        return value

    def bind_targets(self, stmt, value, env):
        super().bind_targets(stmt, value, env)
        for name, span in stmt.targets:
            self.record.values.setdefault((span.line, span.col), env.get(name))

    def make_input(self, stmt, name, env):
        tensor = super().make_input(stmt, name, env)
        self.record.values.setdefault((stmt.span.line, stmt.span.col), tensor)
        return tensor

    def construct(self, defn, pos, kw, span):
        value = super().construct(defn, pos, kw, span)
        if isinstance(value, LayerValue):
            self.record.layers.setdefault((span.line, span.col), value)
        return value


@dataclass
class Analysis:
    text: str
    lines: list  # the text split as the lexer counts lines ("\n" only)
    diagnostics: list[Diagnostic]  # of the whole text
    tree: S.File | None  # of the whole text, or of the prefix that parsed
    models: dict = field(default_factory=dict)
    record: Record = field(default_factory=Record)
    cut: int = 0  # with a syntax error: the lines kept of the text (the rest is not analysed)
    _index: Index | None = None

    @property
    def index(self) -> Index:
        if self._index is None:
            self._index = Index(self.tree)
        return self._index


def analyze(text: str, file: str) -> Analysis:
    """The diagnostics of ``text`` and what hovers, completions and navigation need."""
    lines = text.split("\n")
    tree, diags = parse(text, file)
    record = Record()
    if tree is not None:
        models, diags = check_tree(tree, diags, file, builder=record.builder)
        return Analysis(text, lines, diags, tree, models, record, len(lines))
    first = min((d.span.line for d in diags if d.span and d.span.line > 0), default=1)
    for keep in _cuts(lines, first):
        prefix = "\n".join(lines[:keep]) + "\n" + "}" * _depths("\n".join(lines[:keep]))[1]
        part, part_diags = parse(prefix, file)
        if part is not None:
            models = check_tree(part, part_diags, file, builder=record.builder)[0] if part.items else {}
            return Analysis(text, lines, diags, part, models, record, keep)
    return Analysis(text, lines, diags, None, {}, record, 0)


def _cuts(lines: list, error_line: int) -> list[int]:
    """How many lines to keep, best first: those before the error's line; those before the
    statement it is in (no open '(' or '['); those before the top-level item it is in."""
    keep = max(0, error_line - 1)
    out = [keep]
    paren = brace = 0
    statement = item = 0  # the last line counts where a statement (an item) could start
    for i, line in enumerate(lines[:keep]):
        if paren == 0:
            statement = i
            if brace == 0:
                item = i
        p, b = _depths(line)
        paren, brace = paren + p, brace + b
    if paren == 0:
        statement = keep
        if brace == 0:
            item = keep
    out += [statement, item, 0]
    return list(dict.fromkeys(out))


def _depths(text: str) -> tuple[int, int]:
    """How ``text`` changes the '(' + '[' depth and the '{' depth (strings and comments skipped)."""
    from ..parser import _depths as line_depths

    paren = brace = 0
    for line in text.split("\n"):
        p, b = line_depths(line)
        paren, brace = paren + p, brace + b
    return paren, max(brace, 0)


def tensors_of(value) -> list:
    """The tensors a value holds: one, several (``seq, h, c = LSTM(...)`` before unpacking) or none."""
    if isinstance(value, ir.Tensor):
        return [value]
    if isinstance(value, tuple) and value and all(isinstance(v, ir.Tensor) for v in value):
        return list(value)
    return []
