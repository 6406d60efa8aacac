"""spec2net summary FILE: a Keras-style table of layers, shapes and parameter counts."""

from __future__ import annotations

from ..cli import add_spec_options, load_net

HELP = "print a Keras-style summary: layers, output shapes, parameter counts"


def add_arguments(p):
    p.add_argument("file", metavar="FILE")
    add_spec_options(p)


def run(args) -> int:
    print(load_net(args).summary())
    return 0
