"""The scene, laid out, as one SVG document: boxes with their lines of text, edges as smooth
curves with arrowheads (dashed where a mask travels), labels, def groups as dashed frames.

Every text comes from the spec (names are untrusted) and goes through ``xml.sax.saxutils``'s
escaping; the document needs no font, script or file from outside.
"""

from __future__ import annotations

from itertools import pairwise
from xml.sax.saxutils import escape, quoteattr

from .layout import Layout, layout
from .scene import CHAR_W, FONT, LINE_H, PAD_X, PAD_Y, Box, Scene, text_width

MARGIN = 24.0
TITLE_H = 58.0
GROUP_PAD = 10.0
FILL = {"input": "#e8f1fb", "layer": "#ffffff", "output": "#eaf6ea", "inner": "#f6f6f6"}
STROKE = {"input": "#3b73b9", "layer": "#444444", "output": "#3a8a3a", "inner": "#888888"}
STYLE = """
text { font-family: 'DejaVu Sans Mono', Menlo, Consolas, monospace; font-size: FONTpx; fill: #222; }
text.title { font-weight: bold; }
text.dim { fill: #555; }
text.heading { font-size: 26px; font-weight: bold; fill: #111; }
text.sub { fill: #555; }
text.edge { font-size: 11px; fill: #333; }
text.group { font-size: 11px; fill: #7a4b00; }
path.edge { fill: none; stroke: #555; stroke-width: 1.3; }
path.mask { stroke: #b35900; stroke-dasharray: 5 3; }
rect.group { fill: #fff8e6; stroke: #c98a1b; stroke-dasharray: 6 4; }
""".replace("FONT", str(FONT))


def place(scene: Scene) -> Layout:
    return layout({b.id: (b.width, b.height) for b in scene.boxes}, [(e.src, e.dst) for e in scene.edges])


def to_svg(scene: Scene, lay: Layout | None = None) -> str:
    """The SVG text of ``scene``: ``to_svg(build_scene(net.ir))``."""
    lay = lay or place(scene)
    groups = _group_frames(scene, lay)
    left = min([0.0] + [x for x, _y, _w, _h, _g in groups])
    dx, dy = MARGIN - left, MARGIN + TITLE_H + GROUP_PAD * 2 * bool(groups)
    width = max(lay.width - left, text_width(scene.subtitle), len(scene.title) * 16.0) + 2 * MARGIN
    width = max(width, max([x + w - left for x, _y, w, _h, _g in groups], default=0) + 2 * MARGIN)
    height = dy + lay.height + MARGIN
    out = [(f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
            f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-label={quoteattr("model " + scene.title)}>'),
           f"<title>{escape(scene.title)}</title>",
           f"<style>{STYLE}</style>",
           ('<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
            'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>'),
           f'<rect x="0" y="0" width="{width:.0f}" height="{height:.0f}" fill="#ffffff"/>',
           f'<text class="heading" x="{MARGIN}" y="{MARGIN + 24}">{escape(scene.title)}</text>',
           f'<text class="sub" x="{MARGIN}" y="{MARGIN + 44}">{escape(scene.subtitle)}</text>',
           f'<g transform="translate({dx:.1f},{dy:.1f})">']
    for x, y, w, h, _g in groups:
        out.append(f'<rect class="group" x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" rx="8"/>')
    for edge, route in zip(scene.edges, lay.routes):
        out.append(_edge(edge, route))
    for x, y, _w, _h, g in groups:  # over the edges, on the frame's colour, so an edge never hides one
        w = text_width(g.label) * 11 / FONT
        out.append(f'<rect x="{x + 6:.1f}" y="{y + 2:.1f}" width="{w + 4:.1f}" height="13" fill="#fff8e6"/>'
                   f'<text class="group" x="{x + 8:.1f}" y="{y + 12:.1f}">{escape(g.label)}</text>')
    for box in scene.boxes:
        x, y = lay.pos[box.id]
        out.append(_box(box, x, y))
    out.append("</g></svg>")
    return "\n".join(out) + "\n"


def _group_frames(scene: Scene, lay: Layout) -> list:
    """(x, y, w, h, group) per def group, padded more for each group nested inside it."""
    frames = []
    for g in scene.groups:
        depth_below = max((len(o.key) - len(g.key) for o in scene.groups
                           if o.key[:len(g.key)] == g.key), default=0)
        pad = GROUP_PAD + GROUP_PAD * depth_below
        xs = [lay.pos[m][0] for m in g.members] + [lay.pos[m][0] + lay.size[m][0] for m in g.members]
        ys = [lay.pos[m][1] for m in g.members] + [lay.pos[m][1] + lay.size[m][1] for m in g.members]
        x0, y0 = min(xs) - pad, min(ys) - pad - 10  # room for the label above the boxes
        frames.append((x0, y0, max(xs) + pad - x0, max(ys) + pad - y0, g))
    return frames


def _box(box: Box, x: float, y: float) -> str:
    dash = ' stroke-dasharray="2 2"' if box.kind == "inner" else ""
    rx = 14 if box.kind in ("input", "output") else 4
    width = 2.0 if box.uses > 1 else 1.2
    parts = [f'<g class="{box.kind}" id={quoteattr(box.id)}>',
             (f'<rect x="{x:.1f}" y="{y:.1f}" width="{box.width:.1f}" height="{box.height:.1f}" rx="{rx}" '
              f'fill="{FILL[box.kind]}" stroke="{STROKE[box.kind]}" stroke-width="{width}"{dash}/>')]
    for i, line in enumerate(box.lines):
        cls = f' class="{line.style}"' if line.style else ""
        parts.append(f'<text{cls} x="{x + PAD_X:.1f}" y="{y + PAD_Y + LINE_H * (i + 1) - 4:.1f}">'
                     f"{escape(line.text)}</text>")
    ix, iy = x + PAD_X, y + PAD_Y + LINE_H * len(box.lines) + PAD_Y / 2
    for inner in box.inner:
        parts.append(_box(inner, ix, iy))
        ix += inner.width + PAD_X
    parts.append("</g>")
    return "\n".join(parts)


def _edge(edge, route: list) -> str:
    d = f"M{route[0][0]:.1f},{route[0][1]:.1f}"
    for (x0, y0), (x1, y1) in pairwise(route):
        if abs(x1 - x0) < 0.5 or abs(y1 - y0) < 0.5:  # straight run (through a rank, or a loop's side)
            d += f" L{x1:.1f},{y1:.1f}"
        else:
            my = (y0 + y1) / 2
            d += f" C{x0:.1f},{my:.1f} {x1:.1f},{my:.1f} {x1:.1f},{y1:.1f}"
    cls = "edge mask" if edge.masked else "edge"
    parts = [f'<g class="link"><path class="{cls}" d="{d}" marker-end="url(#arrow)"/>']
    if edge.label:
        (x0, y0), (x1, y1) = route[-2], route[-1]
        lx, ly = x0 + (x1 - x0) * 0.55 + 4, y0 + (y1 - y0) * 0.55
        w = text_width(edge.label) * 11 / FONT
        parts.append(f'<rect x="{lx - 1:.1f}" y="{ly - 9:.1f}" width="{w + 2:.1f}" height="12" fill="#ffffff" '
                     f'fill-opacity="0.8"/><text class="edge" x="{lx:.1f}" y="{ly:.1f}">{escape(edge.label)}</text>')
    parts.append("</g>")
    return "".join(parts)


__all__ = ["CHAR_W", "place", "to_svg"]
