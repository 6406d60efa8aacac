"""The picture as one self-contained HTML page: the SVG inline, then a table of every layer's
arguments as the checker filled them (defaults included, marked as such), the compile and fit
blocks. No script, font, stylesheet or image from outside; every spec text is escaped."""

from __future__ import annotations

from html import escape

from .. import ir
from ..registry import LAYERS
from ..values import show
from .scene import Scene, count_text, shape_text

CSS = """
body { font-family: 'DejaVu Sans', Helvetica, Arial, sans-serif; margin: 24px; color: #222; background: #fff; }
h1 { font-size: 32px; margin: 0 0 4px 0; }
p.sub { color: #555; margin: 0 0 16px 0; }
div.picture { overflow: auto; border: 1px solid #ddd; margin-bottom: 24px; }
table { border-collapse: collapse; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
td.args { font-family: 'DejaVu Sans Mono', Menlo, Consolas, monospace; }
span.default { color: #888; }
"""


def value_text(v) -> str:
    """An argument as the spec writes it; a wrapped layer by its name and type."""
    if isinstance(v, ir.Layer):
        return f"{v.type}({v.name})"
    return show(v)


def _args(layer: ir.Layer) -> str:
    defaults = {a.name: a.default for a in LAYERS[layer.type].args}
    parts = []
    for k, v in layer.args.items():
        d = defaults.get(k)
        default = v is d or (isinstance(v, bool) == isinstance(d, bool) and not isinstance(v, ir.Layer) and v == d)
        item = f"{escape(k)}={escape(value_text(v))}"
        parts.append(f'<span class="default" title="default">{item}</span>' if default else item)
    return ", ".join(parts)


def _rows(model: ir.Model) -> list:
    rows = [(t.input_name, "Input", shape_text(t.type), 0, f"dtype={escape(show(t.type.dtype))}")
            for t in model.inputs]
    todo = [(layer, "") for layer in model.layers]
    while todo:
        layer, owner = todo.pop(0)
        shapes = " | ".join(dict.fromkeys(", ".join(shape_text(t.type) for t in n.outputs) for n in layer.nodes))
        name = layer.name + (f" (in {owner})" if owner else "")
        rows.append((name, layer.type, shapes or "-", sum(p.size for p in layer.params), _args(layer)))
        todo[:0] = [(v, layer.name) for v in layer.args.values() if isinstance(v, ir.Layer)]
    return rows


def _training(model: ir.Model) -> str:
    out = []
    if model.compile is not None:
        c = model.compile
        items = [("optimizer", str(c.optimizer))]
        items += [(f"loss[{k}]", str(v)) for k, v in c.loss.items()]
        items += [(f"loss_weights[{k}]", show(v)) for k, v in c.loss_weights.items()]
        items += [(f"metrics[{k}]", ", ".join(str(m) for m in v) or "-") for k, v in c.metrics.items()]
        out.append(("compile", items))
    if model.fit is not None:
        out.append(("fit", [(k, show(v) if k != "callbacks" else ", ".join(map(str, v)) or "-")
                            for k, v in model.fit.items()]))
    html = []
    for title, items in out:
        html.append(f"<h2>{title}</h2><table><tr><th>argument</th><th>value</th></tr>")
        html += [f'<tr><td>{escape(k)}</td><td class="args">{escape(v)}</td></tr>' for k, v in items]
        html.append("</table>")
    return "\n".join(html)


def to_html(model: ir.Model, scene: Scene, svg: str) -> str:
    """The page: ``to_html(net.ir, scene, to_svg(scene))``."""
    rows = "\n".join(f"<tr><td>{escape(n)}</td><td>{escape(t)}</td><td>{escape(s)}</td>"
                     f'<td style="text-align:right">{c:,}</td><td class="args">{a}</td></tr>'
                     for n, t, s, c, a in _rows(model))
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>{escape(scene.title)} \u2014 spec2net graph</title>
<style>{CSS}</style>
</head>
<body>
<h1 id="model-name">{escape(scene.title)}</h1>
<p class="sub">{escape(scene.subtitle)} \u00b7 from {escape(model.file.replace(chr(92), "/").rsplit("/", 1)[-1])}</p>
<div class="picture">
{svg}</div>
<h2>Layers</h2>
<table>
<tr><th>layer</th><th>type</th><th>output shape</th><th>params</th><th>arguments (defaults in grey)</th></tr>
{rows}
</table>
{_training(model)}
<p class="sub">{escape(count_text(sum(model.count_params())))} in all.</p>
</body>
</html>
"""
