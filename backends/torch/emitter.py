"""What a torch emitter is: the per-layer part of the torch backend.

Each layer type has one Emitter in ``EMITTERS`` (filled by the ``emit_*``
modules). An emitter says which torch module holds the layer's parameters, how
each Keras weight maps onto that module's tensors (the conversion is applied
only by the generated ``load_weights``/``save_weights``), and which forward
lines compute the layer's outputs (and masks) from its inputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from spec2net import ir

from .functions import initializer_call

EMITTERS: dict = {}  # layer type -> Emitter


def register(*types):
    """Class decorator: ``@register("Dense")`` puts one instance in EMITTERS."""

    def deco(cls):
        for t in types:
            EMITTERS[t] = cls()
        return cls

    return deco


@dataclass
class Weight:
    """One Keras weight (``param`` of the layer) and the module tensors that hold it."""

    param: str  # Keras's name: "kernel"
    tensors: tuple  # attribute paths under the layer's module: ("weight_ih_l0",)
    conversion: str  # key into the generated CONVERSIONS table


@dataclass
class Call:
    """One application of a layer, as the forward method sees it."""

    node: ir.Node
    mod: str  # "self.dense"
    ins: list  # source names of the input tensors
    outs: list  # names to bind the outputs to
    in_masks: list  # mask name per input, or None
    training: str = "self.training"
    keep_logits: bool = False  # a model output: keep sigmoid/softmax logits for the loss
    lines: list = field(default_factory=list)

    @property
    def layer(self) -> ir.Layer:
        return self.node.layer

    @property
    def a(self) -> dict:
        return self.node.layer.args

    @property
    def mask(self):
        """The first input mask: the one Keras passes on through single-input layers."""
        return next((m for m in self.in_masks if m), None)


class Emitter:
    helpers: tuple = ()  # helper snippets of the generated file this layer needs
    output_suffixes: tuple = ("",)  # names of the outputs after the layer's: ("", "_h", "_c")

    def module(self, layer: ir.Layer, ins: list) -> str | None:
        """The torch module that holds the parameters (``nn.Linear(4, 8)``), or None."""
        return None

    def setup(self, layer: ir.Layer, attr: str) -> list[str]:
        """Lines after the module is made (freezing torch's extra recurrent bias)."""
        return []

    def weights(self, layer: ir.Layer) -> list[Weight]:
        """Keras weight -> module tensors; by default the same name, no conversion."""
        return [Weight(p.name, (p.name,), "copy") for p in layer.params]

    def initial(self, layer: ir.Layer, param: ir.Param) -> tuple[str, str]:
        """(helper, source of a call) drawing ``param`` in Keras's layout from its initializer."""
        return initializer_call(param.initializer, param.shape)

    def suffixes(self, layer: ir.Layer) -> tuple:
        return self.output_suffixes

    def helpers_for(self, layer: ir.Layer) -> tuple:
        return self.helpers

    def forward(self, c: Call) -> list[str]:
        raise NotImplementedError

    def out_mask(self, c: Call, index: int) -> str | None:
        """The mask of output ``index`` (an expression or a mask's name); Keras passes the input's on."""
        return c.mask
