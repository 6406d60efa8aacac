"""The scene as Graphviz dot text, for users who have Graphviz or an editor that reads dot:
the same boxes (a wrapper's layers as a table inside its node), edges (dashed where a mask
travels) and def groups (clusters). spec2net itself never runs Graphviz."""

from __future__ import annotations

from html import escape as _html

from .scene import Box, Scene

SHAPE = {"input": ("box", "rounded,filled", "#e8f1fb"), "layer": ("box", "filled", "#ffffff"),
         "output": ("box", "rounded,filled", "#eaf6ea")}


def quote(text: str) -> str:
    """A dot ID as a double-quoted string: backslashes and quotes escaped, newlines as \\n."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "") + '"'


def _label(box: Box) -> str:
    """An HTML-like label: the box's lines, then a row per wrapped layer."""
    rows = []
    for line in box.lines:
        text = _html(line.text)
        rows.append(f"<TR><TD>{'<B>' + text + '</B>' if line.style == 'title' else text}</TD></TR>")
    if box.inner:
        cells = "".join(f'<TD BORDER="1" STYLE="dashed">{"<BR/>".join(_html(li.text) for li in b.lines)}</TD>'
                        for b in box.inner)
        rows.append(f'<TR><TD><TABLE BORDER="0" CELLSPACING="4"><TR>{cells}</TR></TABLE></TD></TR>')
    return '<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0">' + "".join(rows) + "</TABLE>>"


def to_dot(scene: Scene) -> str:
    """``to_dot(build_scene(net.ir))``: ``digraph "mlp" { ... }``."""
    out = [f"digraph {quote(scene.title)} {{",
           f"  label={quote(scene.title + chr(10) + scene.subtitle)}; labelloc=t; rankdir=TB;",
           '  node [fontname="monospace", fontsize=11, margin="0.1,0.05"];',
           '  edge [fontname="monospace", fontsize=10];']
    grouped = {}
    for g in scene.groups:  # a box is drawn in its innermost group
        for m in g.members:
            grouped[m] = g.key

    def nodes_in(key):
        for box in scene.boxes:
            if grouped.get(box.id, ()) == key:
                shape, style, fill = SHAPE[box.kind]
                width = ", penwidth=2" if box.uses > 1 else ""
                yield (f"{quote(box.id)} [shape={shape}, style={quote(style)}, fillcolor={quote(fill)}, "
                       f"label={_label(box)}{width}];")

    def cluster(key):
        lines = list(nodes_in(key))
        for n, g in enumerate(scene.groups):
            if len(g.key) != len(key) + 1 or g.key[:len(key)] != key:
                continue
            inner = cluster(g.key)
            name = quote(f"cluster_{n}")
            lines += [f"subgraph {name} {{", f"  label={quote(g.label)}; style=dashed; color=\"#c98a1b\";",
                      *("  " + x for x in inner), "}"]
        return lines

    out += ["  " + line for line in cluster(())]
    for e in scene.edges:
        attrs = [f"label={quote(e.label)}"] if e.label else []
        if e.masked:
            attrs += ["style=dashed", 'color="#b35900"']
        out.append(f"  {quote(e.src)} -> {quote(e.dst)}" + (f" [{', '.join(attrs)}]" if attrs else "") + ";")
    out.append("}")
    return "\n".join(out) + "\n"
