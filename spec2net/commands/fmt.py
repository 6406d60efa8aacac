"""spec2net fmt: placeholder while the command is written (owned by its helper)."""

from __future__ import annotations

from ..cli import UsageError

HELP = "format spec files in the one canonical layout"


def add_arguments(p):
    p.add_argument("args", nargs="*")


def run(args) -> int:
    raise UsageError("not written yet")
