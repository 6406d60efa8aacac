"""Merge functions: concatenate, add, subtract, multiply, average, maximum, minimum.

Masks merge as Keras 3's compute_mask does: an element-wise merge ORs its
inputs' masks (none if an input has none); concatenate ORs them over the last
axis after concatenating them along its own axis. In maximum, minimum and
multiply, masks also change the values, as in Keras 3 (masked-out values are
skipped).
"""

from __future__ import annotations

from .emitter import EMITTERS, Emitter


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


def _valid(mask: str) -> str:
    return f"{mask}[..., None]"  # a Keras mask has no feature axis: (batch, steps) -> (batch, steps, 1)


def _masked_pick(c, left_wins: str) -> list[str]:
    """Keras 3's masked Maximum/Minimum (base_merge._apply_merge_op_and_or_mask), left to
    right: a masked-out value never wins, and where both are masked out the running result
    passes; torch.where sends each gradient to the operand taken."""
    out = c.outs[0]
    lines, valid = [f"{out} = {c.ins[0]}"], c.in_masks[0] and _valid(c.in_masks[0])
    for x, m in zip(c.ins[1:], c.in_masks[1:]):
        take = f"~({out} {left_wins} {x})"
        if valid:
            take = f"~({valid}) | {take}"
        if m:
            take = f"{_valid(m)} & ({take})"
        lines.append(f"{out} = torch.where({take}, {x}, {out})")
        valid = f"{valid} | {_valid(m)}" if valid and m else None
    return lines


def _masked_product(c) -> list[str]:
    """Keras 3's masked Multiply: a masked-out value counts as 1; when every input has a mask,
    the product is 0 where all of them are masked out."""
    factors = [x if m is None else f"torch.where({_valid(m)}, {x}, 1.0)" for x, m in zip(c.ins, c.in_masks)]
    lines = [f"{c.outs[0]} = {' * '.join(factors)}"]
    if all(c.in_masks):
        valid = " | ".join(_valid(m) for m in c.in_masks)
        lines.append(f"{c.outs[0]} = torch.where({valid}, {c.outs[0]}, 0.0)")
    return lines


# Keras 3 lets masks change these merges' values, not only their output masks
_MASKED = {"Maximum": lambda c: _masked_pick(c, ">="), "Minimum": lambda c: _masked_pick(c, "<="),
           "Multiply": _masked_product}


class ElementWise(Emitter):
    def __init__(self, op):
        self.op = op

    def forward(self, c):
        if any(c.in_masks) and c.layer.type in _MASKED:
            return _MASKED[c.layer.type](c)
        return [f"{c.outs[0]} = {self.op(c.ins)}"]

    def out_mask(self, c, index):
        if not c.in_masks or any(m is None for m in c.in_masks):
            return None
        return " | ".join(c.in_masks)


for _type, _op in _OPS.items():
    EMITTERS.add(ElementWise(_op), _type)


@EMITTERS.register("Concatenate")
class Concatenate(Emitter):
    def forward(self, c):
        return [f"{c.outs[0]} = torch.cat([{', '.join(c.ins)}], dim={c.a['axis']})"]

    def out_mask(self, c, index):
        if all(m is None for m in c.in_masks):
            return None
        parts = []
        for x, m in zip(c.ins, c.in_masks):
            # a mask has no feature axis: (batch, steps) for (batch, steps, features)
            parts.append(f"torch.ones_like({x}, dtype=torch.bool)" if m is None
                         else f"{m}[..., None].expand_as({x})")
        return f"torch.cat([{', '.join(parts)}], dim={c.a['axis']}).any(-1)"
