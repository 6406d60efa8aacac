"""A Keras-style model summary: layer (type), output shape, param #, connected to."""

from __future__ import annotations

from . import ir

HEAD = ("Layer (type)", "Output Shape", "Param #", "Connected to")


def rows(model: ir.Model) -> list[tuple[str, str, int, str]]:
    """One row per input and per layer, in Keras's order (each layer at its first call)."""
    out = [(f"{t.input_name} (InputLayer)", str(t.type), 0, "-") for t in model.inputs]
    for layer in model.layers:
        first = layer.nodes[0]
        shapes = [str(t.type) for t in first.outputs]
        shape = shapes[0] if len(shapes) == 1 else "[" + ", ".join(shapes) + "]"
        inbound = [t.ref for n in layer.nodes for t in n.inputs]
        count = sum(p.size for p in layer.params)
        out.append((f"{layer.name} ({layer.type})", shape, count, ", ".join(inbound)))
    return out


def format_summary(model: ir.Model) -> str:
    table = [(a, b, f"{c:,}", d) for a, b, c, d in rows(model)]
    widths = [max(len(r[i]) for r in [HEAD, *table]) for i in range(4)]
    line = "+" + "+".join("-" * (w + 2) for w in widths) + "+"

    def fmt(r):
        cells = [r[0].ljust(widths[0]), r[1].ljust(widths[1]), r[2].rjust(widths[2]), r[3].ljust(widths[3])]
        return "| " + " | ".join(cells) + " |"

    trainable, frozen = model.count_params()
    total = trainable + frozen
    text = [f'Model: "{model.name}"', line, fmt(HEAD), line.replace("-", "=")]
    text += [fmt(r) for r in table]
    text += [line, f" Total params: {total:,} ({_bytes(total)})",
             f" Trainable params: {trainable:,} ({_bytes(trainable)})",
             f" Non-trainable params: {frozen:,} ({_bytes(frozen)})"]
    return "\n".join(text)


def _bytes(count: int) -> str:
    size = count * 4.0  # float32, as Keras assumes
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.2f} {unit}"
        size /= 1024
    return ""
