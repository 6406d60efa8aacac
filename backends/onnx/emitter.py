"""What an ONNX emitter is: the per-layer part of the ONNX backend.

Each layer type has one Emitter in ``EMITTERS`` (filled by the ``emit_*`` modules). ``emit``
adds the nodes that bind ``c.outs`` from ``c.ins``; ``out_masks`` gives each output's Keras mask
(a bool tensor of the output's shape without its feature axis, or None). Weights are asked for
by their Keras name and a conversion of the weights module (weights.py), the only place a Keras
layout becomes an ONNX one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from spec2net import ir
from spec2net.registry import LAYERS
from spec2net.tables import Table

from .graph import Graph
from .weights import convert

EMITTERS = Table("ONNX emitter")  # layer type -> Emitter


@dataclass
class Call:
    """One application of a layer (an ``ir.Node``, or a wrapper's inner layer)."""

    g: Graph
    layer: ir.Layer
    prefix: str  # the weights' key prefix: "dense/", "bidirectional/forward_lstm/"
    weights: dict  # the model's weights, Keras's layout, keyed LAYER/PARAM
    ins: list  # input tensor names
    in_types: list  # ir.TensorType per input (per sample)
    out_types: list
    outs: list  # the names to bind, one per output
    masks: list  # per input: a bool tensor name or None
    initial_states: int = 0
    scratch: dict = field(default_factory=dict)  # what ``emit`` leaves for ``out_masks``

    @property
    def a(self) -> dict:
        return self.layer.args

    @property
    def hint(self) -> str:
        return self.layer.name

    @property
    def mask(self):
        """The first input's mask: the one Keras passes on through single-input layers."""
        return next((m for m in self.masks if m), None)

    def op(self, op_type: str, inputs: list, out: int | None = None, n_out: int = 1, **attrs):
        """A node of this layer; ``out=i`` binds the layer's output ``i``."""
        outs = None if out is None else [self.outs[out]]
        return self.g.op(op_type, inputs, self.hint, outs, n_out, **attrs)

    def w(self, param: str, conversion: str = "copy", **kw) -> str:
        """The initializer holding ``param`` in the layout ``conversion`` gives."""
        key = self.prefix + param
        name = key if conversion == "copy" and not kw else f"{key}:{conversion}" + "".join(
            "_" + ("x".join(map(str, v)) if isinstance(v, tuple) else str(v)) for v in kw.values())
        if name not in self.g.initializers:
            self.g.initializer(name, convert(conversion, self.weights[key], **kw))
        return name


class Emitter:
    def emit(self, c: Call) -> None:
        raise NotImplementedError

    def out_masks(self, c: Call) -> list:
        """Keras's ``compute_mask``: the input's mask passes on unless the registry says the layer drops it."""
        keep = LAYERS[c.layer.type].mask != "drop"
        return [c.mask if keep else None] * len(c.outs)
