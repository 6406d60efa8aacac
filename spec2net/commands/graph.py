"""spec2net graph: placeholder while the command is written (owned by its helper)."""

from __future__ import annotations

from ..cli import UsageError

HELP = "draw a picture of the model (.svg, .dot or a self-contained .html)"


def add_arguments(p):
    p.add_argument("args", nargs="*")


def run(args) -> int:
    raise UsageError("not written yet")
