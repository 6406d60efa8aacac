"""spec2net graph: every example drawn as SVG, dot and HTML; the SVG is XML holding every layer's
name and shape; the layout keeps boxes apart and edges pointing down; shared layers, wrappers,
def blocks and masks are drawn as such; the HTML opens in headless Chromium and shows the model."""

from __future__ import annotations

import math
import os
import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET
import zlib
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise

import pytest
from conftest import EXAMPLES, ROOT

import spec2net
from spec2net import ir
from spec2net.cli import main
from spec2net.graph import build_scene, render, to_svg
from spec2net.graph.scene import shape_text
from spec2net.graph.svg import place

SVG = "{http://www.w3.org/2000/svg}"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def texts(svg: str) -> list:
    root = ET.fromstring(svg)  # raises on anything that is not well-formed XML
    return [el.text or "" for el in root.iter(f"{SVG}text")]


def all_layers(model: ir.Model) -> list:
    out, todo = [], list(model.layers)
    while todo:
        layer = todo.pop()
        out.append(layer)
        todo += [v for v in layer.args.values() if isinstance(v, ir.Layer)]
    return out


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_example_renders_with_every_name_and_shape(path):
    model = spec2net.load(path).ir
    svg = render(model, "svg")
    words = texts(svg)
    joined = "\n".join(words)
    assert model.name in words
    for layer in all_layers(model):
        assert layer.name in words, f"{layer.name} missing"
    for layer in model.layers:
        for node in layer.nodes:
            for t in node.outputs:
                assert shape_text(t.type) in joined, f"{layer.name}: {shape_text(t.type)}"
        assert f"{sum(p.size for p in layer.params):,} param" in joined
    for t in model.inputs:
        assert t.input_name in words and shape_text(t.type) in joined
    for o in model.outputs:
        assert o.name in words
    dot = render(model, "dot")
    assert dot.startswith("digraph ") and dot.count("{") == dot.count("}")
    assert sum(len(n.inputs) for n in model.nodes) + len(model.outputs) == dot.count(" -> ")
    page = render(model, "html")
    assert svg in page and "<script" not in page and "http://" not in page.replace(SVG[1:-1], "")
    assert render(model, "svg") == svg, "the picture depends on nothing but the spec"


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_layout_keeps_boxes_apart_and_edges_flowing_down(path):
    scene = build_scene(spec2net.load(path).ir)
    lay = place(scene)
    rects = [(*lay.pos[b.id], *lay.size[b.id]) for b in scene.boxes]
    for i, (x, y, w, h) in enumerate(rects):
        for x2, y2, w2, h2 in rects[i + 1:]:
            assert x + w <= x2 or x2 + w2 <= x or y + h <= y2 or y2 + h2 <= y, "boxes overlap"
    for edge, route in zip(scene.edges, lay.routes):
        (sx, sy), (sw, sh) = lay.pos[edge.src], lay.size[edge.src]
        (tx, ty), (tw, _th) = lay.pos[edge.dst], lay.size[edge.dst]
        assert route[0] == pytest.approx((route[0][0], sy + sh)) and sx <= route[0][0] <= sx + sw
        assert route[-1] == pytest.approx((route[-1][0], ty)) and tx <= route[-1][0] <= tx + tw
        assert all(b[1] >= a[1] for a, b in pairwise(route)), f"{edge.src} -> {edge.dst} goes up"


def test_shared_layer_is_one_box_with_numbered_applications():
    scene = build_scene(spec2net.load(ROOT / "examples" / "shared.net").ir)
    encoder = [b for b in scene.boxes if b.id == "layer:encoder"]
    assert len(encoder) == 1 and encoder[0].uses == 2 and "Dense \u00d72" in encoder[0].lines[1].text
    into = sorted((e.src, e.label) for e in scene.edges if e.dst == "layer:encoder")
    assert into == [("input:left", "#1"), ("input:right", "#2")]


def test_masks_travel_on_dashed_edges():
    model = spec2net.load(ROOT / "examples" / "multi_output.net").ir
    scene = build_scene(model)
    masked = {(e.src, e.dst) for e in scene.edges if e.masked}
    assert masked == {("layer:embedding", "layer:lstm"), ("layer:lstm", "layer:lstm_1")}
    root = ET.fromstring(to_svg(scene))
    dashed = [p for p in root.iter(f"{SVG}path") if "mask" in p.get("class", "")]
    assert len(dashed) == 2 and all(e.label.endswith("mask") for e in scene.edges if e.masked)


def test_wrappers_and_def_blocks_are_groups():
    scene = build_scene(spec2net.load(ROOT / "examples" / "imdb_bilstm.net").ir)
    bi = next(b for b in scene.boxes if b.id == "layer:bidirectional")
    assert [i.lines[0].text for i in bi.inner] == ["forward_lstm", "backward_lstm"]
    assert bi.width >= sum(i.width for i in bi.inner) and bi.height > max(i.height for i in bi.inner)
    scene = build_scene(spec2net.load(ROOT / "examples" / "blocks.net").ir)
    assert [(g.label, g.members) for g in scene.groups] == [
        ("def ffn (line 12)", ["layer:dense", "layer:dropout"]),
        ("def ffn (line 13)", ["layer:dense_1", "layer:dropout_1"])]
    assert "def ffn (line 13)" in texts(to_svg(scene))


def test_nested_defs_nest_their_groups():
    net = spec2net.loads("""
def inner(x) { return Dense(4)(x) }
def outer(x) { h = inner(x)
  return Dense(2)(h) }
model m { input x: float32[3]; output y = outer(x) }
""")
    groups = build_scene(net.ir).groups
    assert [(len(g.key), g.members) for g in groups] == [(1, ["layer:dense", "layer:dense_1"]), (2, ["layer:dense"])]
    assert "def inner (line 3)" in render(net.ir, "dot")


def test_a_layer_fed_by_itself_or_a_later_layer_is_drawn():
    net = spec2net.loads("""
model loop {
  input x: float32[4]
  d = Dense(4, name="again")
  e = Dense(4, name="back")
  a = d(x)
  b = e(a)
  c = d(b)
  output y = d(c)
}
""")
    scene = build_scene(net.ir)
    lay = place(scene)
    assert ("layer:again", "layer:again") in {(e.src, e.dst) for e in scene.edges}
    for edge, route in zip(scene.edges, lay.routes):
        assert len(route) >= 2 and all(math.isfinite(v) for p in route for v in p)
    assert "again" in texts(to_svg(scene)) and "\u00d73" in to_svg(scene)


def test_untrusted_text_is_escaped(tmp_path):
    spec = tmp_path / 'a<b>&"c.net'
    spec.write_text((ROOT / "examples" / "mlp.net").read_text(encoding="utf-8"), encoding="utf-8")
    page = render(spec2net.load(spec).ir, "html")
    assert "a&lt;b&gt;&amp;&quot;c.net" in page and "a<b>" not in page
    ET.fromstring(render(spec2net.load(spec).ir, "svg"))


# -- the command -------------------------------------------------------------------------------
def test_cli_writes_each_format_from_the_suffix(tmp_path, capsys):
    spec = ROOT / "examples" / "shared.net"
    for suffix in ("svg", "dot", "html"):
        out = tmp_path / f"m.{suffix}"
        assert main(["graph", str(spec), "-o", str(out)]) == 0
        assert out.read_text(encoding="utf-8") == render(spec2net.load(spec).ir, suffix)
    assert main(["graph", str(spec), "-o", "-", "--format", "dot"]) == 0
    assert capsys.readouterr().out.startswith('digraph "siamese"')
    assert main(["graph", str(spec), "-o", str(tmp_path / "m.png")]) == 2
    assert "cannot tell the format" in capsys.readouterr().err
    assert main(["graph", str(spec), "-o", str(tmp_path)]) == 2  # a directory is never clobbered
    bad = tmp_path / "bad.net"
    bad.write_text("model m { input x: float32[3]; output y = Dens(2)(x) }", encoding="utf-8")
    assert main(["graph", str(bad), "-o", str(tmp_path / "bad.svg")]) == 1
    assert not (tmp_path / "bad.svg").exists()


def test_the_docs_picture_is_current():
    picture = ROOT / "docs" / "images" / "multi_output.svg"
    assert picture.read_text(encoding="utf-8") == render(spec2net.load(ROOT / "examples" / "multi_output.net").ir,
                                                         "svg"), "regenerate: spec2net graph examples/multi_output.net"


# -- the page in a browser -----------------------------------------------------------------------
def read_png(path) -> tuple:
    """(width, height, rows of RGB(A) bytes) of an 8-bit RGB or RGBA PNG, decoded by hand."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, head = 8, b"", None
    while pos < len(data):
        size, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + size]
        if kind == b"IHDR":
            head = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + size
    width, height, depth, color, _c, _f, interlace = head
    assert depth == 8 and color in (2, 6) and interlace == 0, head
    bpp = 3 if color == 2 else 4
    raw, stride, rows, prev = zlib.decompress(idat), width * bpp, [], bytearray(width * bpp)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, bpp, rows


def chromium(profile, *args) -> subprocess.CompletedProcess:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}"]
    return subprocess.run([CHROMIUM, *flags, *args], check=False, capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Chromium (./dev test installs Debian's chromium)")
def test_html_opens_in_a_browser_showing_the_model(tmp_path):
    page = tmp_path / "multi_output.html"
    assert main(["graph", str(ROOT / "examples" / "multi_output.net"), "-o", str(page)]) == 0
    png = tmp_path / "shot.png"
    with ThreadPoolExecutor(2) as pool:  # two browsers at once: each start costs seconds
        shot = pool.submit(chromium, tmp_path / "a", f"--screenshot={png}", "--window-size=1200,900", page.as_uri())
        dom = pool.submit(chromium, tmp_path / "b", "--dump-dom", page.as_uri())
        shot, dom = shot.result(), dom.result()
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert '<h1 id="model-name">multi_output</h1>' in dom.stdout and "forward" not in dom.stdout
    assert "<svg" in dom.stdout and "lstm_1" in dom.stdout and "kernel_initializer=glorot_uniform" in dom.stdout
    assert shot.returncode == 0 and png.exists(), shot.stderr[-2000:]
    width, height, bpp, rows = read_png(png)
    assert (width, height) == (1200, 900)

    def dark(x0, x1, y0, y1) -> int:
        return sum(1 for y in range(y0, y1) for x in range(x0, x1)
                   if sum(rows[y][x * bpp:x * bpp + 3]) < 3 * 100)

    # the title (32 px bold at the top left) is dark ink on white; the page below it holds the picture
    assert dark(20, 400, 15, 65) > 400, "the model's name is not visible at the top"
    assert dark(20, 1180, 100, 900) > 2000, "the picture is blank"
    colours = {rows[y][x * bpp:x * bpp + 3] for y in range(100, 900, 7) for x in range(0, 1200, 7)}
    assert len(colours) > 8, "the screenshot is nearly uniform"
