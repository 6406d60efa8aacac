"""spec2net import: placeholder while the command is written (owned by its helper)."""

from __future__ import annotations

from ..cli import UsageError

HELP = "read a Keras 3 .keras (or legacy .h5) model file into a spec and a weights file"


def add_arguments(p):
    p.add_argument("args", nargs="*")


def run(args) -> int:
    raise UsageError("not written yet")
