"""One Diagnostic type, and every message text spec2net prints, with a stable code.

Messages are format strings keyed by code, so tests and users can rely on
the code while the wording stays in one place (as mypy's message registry).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

MESSAGES = {
    "syntax": "{detail}",
    "encoding": "file is not valid UTF-8 text ({detail})",
    "binary": "file looks binary (it contains NUL bytes), not a .net spec",
    "empty": "file declares no model",
    "name-defined": "name '{name}' is not defined{hint}",
    "unknown-layer": "unknown layer or function '{name}'{hint}",
    "unknown-arg": "{owner} has no argument '{name}'{hint}",
    "missing-arg": "{owner} needs the argument '{name}'",
    "duplicate-arg": "{owner} got the argument '{name}' twice",
    "too-many-args": "{owner} takes at most {n} positional argument(s), got {got}",
    "arg-type": "{owner}: expected {expected}. Received: {name}={value}",
    "arg-range": "{owner}: expected {expected}. Received: {name}={value}",
    "unknown-value": "unknown {kind} '{name}'{hint}",
    "shape": "{detail}",
    "dtype": "{detail}",
    "not-tensor": "{detail}",
    "not-callable": "{detail}",
    "unpack": "{detail}",
    "recursion": "def '{name}' calls itself (through {path}); recursion is not allowed",
    "expansion": "{what} expands to more than {limit} layers and def calls (through {path}); "
                 "a def that calls others several times over grows exponentially",
    "duplicate-name": "{what} named '{name}' in model '{model}' (the other at {other})",
    "duplicate-def": "def '{name}' is declared twice (the other at {other})",
    "duplicate-input": "input '{name}' is declared twice (the other at {other})",
    "duplicate-output": "output '{name}' is declared twice",
    "duplicate-model": "model '{name}' is declared twice (the other at {other})",
    "no-output": "model '{name}' declares no output",
    "no-input": "{detail}",
    "unused-input": "input '{name}' is not used by any output",
    "unused-layer": "layer '{name}' is not used by any output",
    "compile": "{detail}",
    "model": "{detail}",
    "statement": "{detail}",
    "define": "{detail}",
    "memory": "{detail}",
}


class Span(NamedTuple):
    """Where a construct sits in its file (1-based line and column).

    A NamedTuple, not a dataclass: the parser makes one per token, and a tuple
    of plain values is several times cheaper to build and untracked by the GC.
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
            # One character per column, so the caret stays under its column: a tab is one blank,
            # and a control or separator character (U+2028 would break the line) shows as '?'.
            text = "".join(c if c.isprintable() else " " if c == "\t" else "?"
                           for c in source_lines[self.span.line - 1].rstrip("\r\n"))
            width = 1
            if self.span.end_line == self.span.line and self.span.end_col > self.span.col:
                width = self.span.end_col - self.span.col
            out += f"\n    {text}\n    {' ' * (self.span.col - 1)}{'^' * width}"
        return out


def diag(span: Span | None, code: str, severity: str = "error", **fields) -> Diagnostic:
    """Build a Diagnostic from the message registry: ``diag(span, "no-output", name="m")``."""
    return Diagnostic(span, code, one_line(MESSAGES[code].format(**fields)), severity)


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
        return [d.format(self.sources.get(d.span.file) if d.span else None) for d in self.diagnostics]


def suggest(name: str, candidates) -> str:
    """A ``; did you mean 'x'?`` hint for a misspelt name, or ''."""
    import difflib

    pool = sorted({c for c in candidates if isinstance(c, str)})
    lowered = {c.lower(): c for c in pool}
    if name.lower() in lowered and lowered[name.lower()] != name:
        return f"; did you mean '{lowered[name.lower()]}'?"
    best = difflib.get_close_matches(name, pool, n=1, cutoff=0.6)
    return f"; did you mean '{best[0]}'?" if best else ""
