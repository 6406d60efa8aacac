"""Merge functions: concatenate, add, subtract, multiply, average, maximum, minimum.

Masks merge as Keras 3's compute_mask does: an element-wise merge ORs its
inputs' masks (none if an input has none); concatenate ORs them over the last
axis after concatenating them along its own axis.
"""

from __future__ import annotations

from .emitter import Emitter, register


def _fold(fn: str, xs: list) -> str:
    out = xs[0]
    for x in xs[1:]:
        out = f"{fn}({out}, {x})"
    return out


# type -> source of the merge of the input names, in Keras's left-to-right order
_OPS = {
    "Add": lambda xs: " + ".join(xs),
    "Subtract": lambda xs: f"{xs[0]} - {xs[1]}",
    "Multiply": lambda xs: " * ".join(xs),
    "Average": lambda xs: f"({' + '.join(xs)}) / {len(xs)}",
    "Maximum": lambda xs: _fold("torch.maximum", xs),
    "Minimum": lambda xs: _fold("torch.minimum", xs),
}


class ElementWise(Emitter):
    def __init__(self, op):
        self.op = op

    def forward(self, c):
        return [f"{c.outs[0]} = {self.op(c.ins)}"]

    def out_mask(self, c, index):
        if not c.in_masks or any(m is None for m in c.in_masks):
            return None
        return " | ".join(c.in_masks)


for _type, _op in _OPS.items():
    register(_type)(lambda op=_op: ElementWise(op))


@register("Concatenate")
class Concatenate(Emitter):
    def forward(self, c):
        return [f"{c.outs[0]} = torch.cat([{', '.join(c.ins)}], dim={c.a['axis']})"]

    def out_mask(self, c, index):
        if all(m is None for m in c.in_masks):
            return None
        parts = []
        for x, m in zip(c.ins, c.in_masks):
            # a mask has no feature axis: (batch, steps) for (batch, steps, features)
            parts.append(f"torch.ones_like({x}, dtype=torch.bool)" if m is None else f"{m}[..., None].expand_as({x})")
        return f"torch.cat([{', '.join(parts)}], dim={c.a['axis']}).any(-1)"
