"""spec2net lsp: placeholder while the command is written (owned by its helper)."""

from __future__ import annotations

from ..cli import UsageError

HELP = "the language server for editors (stdio)"


def add_arguments(p):
    p.add_argument("args", nargs="*")


def run(args) -> int:
    raise UsageError("not written yet")
