"""The spec's own lines, quoted in a comment above each generated statement."""

from __future__ import annotations

from pathlib import Path, PurePath

from spec2net.codegen import comment_text
from spec2net.pyformat import WIDTH

INDENT = 4


class SpecLines:
    """The spec's source lines, for the comment above each statement (``mlp.net:5: Dense(8)``)."""

    def __init__(self, file: str):
        self.name = PurePath(str(file)).name
        try:
            # split on "\n" only, as the parser counts lines ("\r" is dropped by comment_text)
            self.lines = Path(file).read_text("utf-8-sig").split("\n")
        except (OSError, UnicodeDecodeError):  # a spec given as text (loads) has no file to quote
            self.lines = []

    def comment(self, span) -> str:
        where = comment_text(f"{self.name}:{span.line}")
        text = comment_text(self.statement(span)) if 0 < span.line <= len(self.lines) else ""
        line = f"{where}: {text}" if text else where
        room = WIDTH - INDENT - 2
        return line if len(line) <= room else line[: room - 3] + "..."

    def statement(self, span) -> str:
        """The statement starting at ``span``'s line, on one line: a call that `spec2net fmt` broke
        over several lines (one argument per line) is quoted whole, as it was written before."""
        parts, depth, i = [], 0, span.line - 1
        last = i + 200  # a statement spans at most this many lines; no quote grows without bound
        while i < len(self.lines):
            line = self.lines[i].strip()
            if '"' not in line:  # a trailing comment, where no string can hold a '#'
                line = line.partition("#")[0].rstrip()
            parts.append(line)
            depth += sum(line.count(c) for c in "([") - sum(line.count(c) for c in ")]")
            if depth <= 0 or i >= last:
                break
            i += 1
        text = " ".join(parts) if len(parts) > 1 else self.lines[span.line - 1].strip()
        for broken, joined in (("( ", "("), ("[ ", "["), (", )", ")"), (", ]", "]"), (",)", ")"), (",]", "]")):
            text = text.replace(broken, joined)
        return text
