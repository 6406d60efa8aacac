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
        text = comment_text(self.lines[span.line - 1].strip()) if 0 < span.line <= len(self.lines) else ""
        line = f"{where}: {text}" if text else where
        room = WIDTH - INDENT - 2
        return line if len(line) <= room else line[: room - 3] + "..."
