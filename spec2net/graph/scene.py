"""What a picture of a model shows, before any layout: boxes, edges and groups, read from the IR.

One box per input, per layer (a shared layer once, its applications counted) and per output;
one edge per tensor a layer call reads, numbered by the call where the layer is shared and
marked where the tensor carries a Keras mask; a wrapper's layers drawn inside its box; one group
per `def` call (``ir.Node.defs``). Every writer (SVG, dot, HTML) draws this same scene.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import ir

FONT = 12  # px, monospace: a character is 0.6 em wide, which is what the text widths assume
CHAR_W = FONT * 0.6
LINE_H = 16
PAD_X, PAD_Y = 10, 6


def shape_text(t: ir.TensorType) -> str:
    """Keras's notation with the batch and every unknown dimension as the language's ``?``:
    ``(?, 20, 24)``."""
    dims = ", ".join("?" if d is None else str(d) for d in (None, *t.shape))
    return f"({dims}{',' if not t.shape else ''})"


def count_text(n: int) -> str:
    return f"{n:,} param" + ("" if n == 1 else "s")


def text_width(text: str) -> float:
    return len(text) * CHAR_W


@dataclass
class Line:
    text: str
    style: str = ""  # "" | "title" | "dim"


@dataclass
class Box:
    id: str
    kind: str  # "input" | "layer" | "output"
    lines: list
    inner: list = field(default_factory=list)  # [Box] of a wrapper's layers, drawn inside
    layer: ir.Layer | None = None
    uses: int = 1

    @property
    def width(self) -> float:
        own = max(text_width(line.text) for line in self.lines) + 2 * PAD_X
        inside = sum(b.width for b in self.inner) + PAD_X * (len(self.inner) + 1)
        return max(own, inside)

    @property
    def height(self) -> float:
        inside = max((b.height for b in self.inner), default=-PAD_Y) + PAD_Y
        return len(self.lines) * LINE_H + 2 * PAD_Y + inside


@dataclass
class Edge:
    src: str
    dst: str
    label: str
    masked: bool
    call: int | None = None  # the application (1-based) of a shared layer this input feeds


@dataclass
class Group:
    """One expansion of a `def`: the boxes whose every application it made."""

    key: tuple  # the ir.Node.defs path of the call
    label: str
    members: list


@dataclass
class Scene:
    title: str
    subtitle: str
    boxes: list
    edges: list
    groups: list


def _layer_lines(layer: ir.Layer, uses: int) -> list:
    count = sum(p.size for p in layer.params)
    kind = layer.type + (f" \u00d7{uses}" if uses > 1 else "") + (" (frozen)" if not layer.trainable else "")
    shapes = []
    for node in layer.nodes:
        texts = [shape_text(t.type) for t in node.outputs]
        one = texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
        if one not in shapes:
            shapes.append(one)
    return [Line(layer.name, "title"), Line(f"{kind} \u00b7 {count_text(count)}"), Line(" | ".join(shapes), "dim")]


def _inner_boxes(layer: ir.Layer, box_id: str) -> list:
    """A wrapper's layers (Bidirectional's forward and backward ones, TimeDistributed's one)."""
    out = []
    for value in layer.args.values():
        if isinstance(value, ir.Layer):
            count = sum(p.size for p in value.params)
            out.append(Box(f"{box_id}/{value.name}", "inner", [Line(value.name, "title"),
                                                               Line(f"{value.type} \u00b7 {count_text(count)}")],
                           layer=value))
    return out


def _edge_label(t: ir.Tensor) -> str:
    if t.name and t.producer is not None:
        return t.name
    if t.producer is not None and len(t.producer.outputs) > 1:
        return f"output {t.index}"
    return ""


def _common(paths: list) -> tuple:
    first = paths[0]
    n = 0
    while n < len(first) and all(len(p) > n and p[n] == first[n] for p in paths):
        n += 1
    return first[:n]


def build_scene(model: ir.Model) -> Scene:
    """The scene of ``model``: ``build_scene(spec2net.load("shared.net").ir).boxes[2].lines``."""
    boxes, edges, ids = [], [], {}
    for t in model.inputs:
        ids[id(t)] = f"input:{t.input_name}"
        boxes.append(Box(ids[id(t)], "input", [Line(t.input_name, "title"), Line(f"Input \u00b7 {t.type.dtype}"),
                                               Line(shape_text(t.type), "dim")]))
    for layer in model.layers:
        key = f"layer:{layer.name}"
        boxes.append(Box(key, "layer", _layer_lines(layer, len(layer.nodes)), _inner_boxes(layer, key), layer,
                         len(layer.nodes)))
        for node in layer.nodes:
            for t in node.outputs:
                ids[id(t)] = key
    for node in model.nodes:
        shared = len(node.layer.nodes) > 1
        for t in node.inputs:
            label = _edge_label(t)
            if shared:
                label = f"#{node.call_index + 1}" + (f" {label}" if label else "")
            if t.masked:
                label = (label + " " if label else "") + "mask"
            edges.append(Edge(ids[id(t)], f"layer:{node.layer.name}", label, t.masked,
                              node.call_index + 1 if shared else None))
    for o in model.outputs:
        key = f"output:{o.name}"
        boxes.append(Box(key, "output", [Line(o.name, "title"), Line("Output"), Line(shape_text(o.tensor.type), "dim")]))
        edges.append(Edge(ids[id(o.tensor)], key, "mask" if o.tensor.masked else "", o.tensor.masked))
    trainable, frozen = model.count_params()
    subtitle = f"{model.kind} \u00b7 {count_text(trainable + frozen)}" + (
        f" ({frozen:,} non-trainable)" if frozen else "")
    return Scene(model.name, subtitle, boxes, edges, _groups(model))


def _groups(model: ir.Model) -> list:
    """Each def call's group, outermost first; a box belongs to the deepest call all its
    applications came from (a shared layer applied in two calls belongs to neither)."""
    groups = {}
    for layer in model.layers:
        path = _common([n.defs for n in layer.nodes])
        for depth in range(1, len(path) + 1):
            key = path[:depth]
            if key not in groups:
                name, span = key[-1]
                groups[key] = Group(key, f"def {name} (line {span.line})", [])
            groups[key].members.append(f"layer:{layer.name}")
    return sorted(groups.values(), key=lambda g: len(g.key))
