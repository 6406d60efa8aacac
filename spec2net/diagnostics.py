"""One Diagnostic type: a span, a code and a message from the registry in ``spec2net.messages``.

``diag(span, messages.NO_OUTPUT, name="m")`` makes one; ``SpecError`` carries them all and
prints at most ``MAX_SHOWN`` of them, with long source lines cut around the caret.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from . import messages as M
from .messages import ErrorMessage, Problem

MAX_SHOWN = 100  # diagnostics printed; the rest are counted on one line (3,000 errors once printed 270 MB)
MAX_EXCERPT = 120  # characters of a source line shown; a longer one is cut around the caret


class Span(NamedTuple):
    """Where a construct sits in its file (1-based line and column).

    A NamedTuple, not a dataclass: the parser makes one per token, and a tuple is several
    times cheaper to build. (Unlike a plain tuple of plain values, the GC still tracks it.)
    """

    file: str
    line: int
    col: int
    end_line: int = 0
    end_col: int = 0

    def __str__(self) -> str:
        return f"{self.line}:{self.col}"


@dataclass
class Diagnostic:
    """One error or warning, printed as ``FILE:LINE:COL: error: MESSAGE [code]``."""

    span: Span | None
    code: str
    message: str
    severity: str = "error"

    def format(self, source_lines: list[str] | None = None) -> str:
        where = self.span.file if self.span else "<spec>"
        if self.span and self.span.line > 0:  # line 0: about the file or command line as a whole
            where += f":{self.span.line}:{self.span.col}"
        out = f"{where}: {self.severity}: {self.message} [{self.code}]"
        if self.span and source_lines and 0 < self.span.line <= len(source_lines):
            width = 1
            if self.span.end_line == self.span.line and self.span.end_col > self.span.col:
                width = self.span.end_col - self.span.col
            text, col, width = _cut(source_lines[self.span.line - 1].rstrip("\r\n"), self.span.col, width)
            # One character per column, so the caret stays under its column: a tab is one blank,
            # and a control or separator character (U+2028 would break the line) shows as '?'.
            text = "".join(c if c.isprintable() else " " if c == "\t" else "?" for c in text)
            out += f"\n    {text}\n    {' ' * (col - 1)}{'^' * width}"
        return out


def _cut(text: str, col: int, width: int, limit: int = MAX_EXCERPT) -> tuple[str, int, int]:
    """``text`` cut to about ``limit`` characters around columns ``col``..``col + width``, with
    '...' where it was cut, and the caret's new column and width (a minified spec is one line)."""
    if len(text) <= limit:
        return text, col, width
    width = min(width, limit // 2)
    start = max(0, min(col - 1 - limit // 4, len(text) - limit))  # the caret a quarter of the way in
    head, tail = ("..." if start > 0 else ""), ("..." if start + limit < len(text) else "")
    return head + text[start:start + limit] + tail, col - start + len(head), width


def diag(span: Span | None, message: ErrorMessage, **fields) -> Diagnostic:
    """A Diagnostic from the message registry: ``diag(span, messages.NO_OUTPUT, name="m")``."""
    return Diagnostic(span, message.code, one_line(message.format(**fields)), message.severity)


def from_problem(span: Span | None, problem: Problem) -> Diagnostic:
    """The Diagnostic of a ``messages.Problem`` raised where the span was not known."""
    return diag(span, problem.message, **problem.fields)


def render(diagnostics: list[Diagnostic], sources: dict[str, list[str]]) -> list[str]:
    """The printed form of ``diagnostics``: the first ``MAX_SHOWN``, then one line that counts the
    rest (``... and 2,900 more errors``), so that a broken file cannot flood a terminal."""
    out = [d.format(sources.get(d.span.file) if d.span else None) for d in diagnostics[:MAX_SHOWN]]
    rest = diagnostics[MAX_SHOWN:]
    if rest:
        n = sum(d.severity == "error" for d in rest)
        w = len(rest) - n
        counts = [f"{n:,} more error{'s' * (n != 1)}"] if n else []
        counts += [f"{w:,} {'' if n else 'more '}warning{'s' * (w != 1)}"] if w else []
        out.append(M.MORE.format(counts=" and ".join(counts)))
    return out


def one_line(text: str) -> str:
    """``text`` with every non-printable character escaped (``\\n``, ``\\u2028``), so that a message
    quoting the spec (a string, a dict key) stays on the one line ``FILE:LINE:COL: error: ...``."""
    return text if text.isprintable() else "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


@dataclass
class SpecError(Exception):
    """Raised by ``spec2net.load`` when a spec has errors; ``.diagnostics`` lists them all."""

    diagnostics: list[Diagnostic] = field(default_factory=list)
    sources: dict[str, list[str]] = field(default_factory=dict)

    def __str__(self) -> str:
        return "\n".join(self.render())

    def render(self) -> list[str]:
        return render(self.diagnostics, self.sources)


def suggest(name: str, candidates) -> str:
    """A ``; did you mean 'x'?`` hint for a misspelt name, or '' (spelling.closest says what is close)."""
    from .spelling import closest

    best = closest(name, candidates)
    return f"; did you mean '{best}'?" if best else ""
