"""spec2net graph: a picture of a model (SVG, Graphviz dot, self-contained HTML), laid out in Python.

>>> import spec2net
>>> from spec2net.graph import render
>>> svg = render(spec2net.load("examples/shared.net").ir, "svg")  # doctest: +SKIP

``scene.py`` reads the IR into boxes, edges and groups; ``layout.py`` places them (a layered
layout of its own, no Graphviz); ``svg.py``, ``dot.py`` and ``page.py`` write them.
"""

from __future__ import annotations

from .. import ir
from .dot import to_dot
from .page import to_html
from .scene import build_scene
from .svg import to_svg

FORMATS = ("svg", "dot", "html")


def render(model: ir.Model, fmt: str) -> str:
    """The picture of ``model`` in ``fmt`` ("svg", "dot" or "html") as text."""
    scene = build_scene(model)
    if fmt == "dot":
        return to_dot(scene)
    svg = to_svg(scene)
    return svg if fmt == "svg" else to_html(model, scene, svg)


__all__ = ["FORMATS", "build_scene", "render", "to_dot", "to_html", "to_svg"]
