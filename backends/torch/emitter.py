"""What a torch emitter is: the per-layer part of the torch backend.

Each layer type has one Emitter in ``EMITTERS`` (filled by the ``emit_*`` modules). An emitter
says which torch module holds the layer's parameters, how each Keras weight maps onto that
module's tensors (the conversion itself lives in the runtime's ``CONVERSIONS`` table), and
which forward lines compute the layer's outputs (and masks) from its inputs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from spec2net import ir
from spec2net.tables import Table

from .functions import initializer_call

EMITTERS = Table("torch emitter")  # layer type -> Emitter


@dataclass
class Weight:
    """One Keras weight (``param`` of the layer) and the module tensors that hold it."""

    param: str  # Keras's name: "kernel"
    tensors: tuple  # attribute paths under the layer's module: ("weight_ih_l0",)
    conversion: str  # key into the runtime's CONVERSIONS table


@dataclass
class Application:
    """One application of a layer (an ``ir.Node``), as the forward method sees it."""

    node: ir.Node
    mod: str  # the layer's module: 'self.layers["dense"]'
    ins: list  # source names of the input tensors
    outs: list  # names bound to the outputs, one per output tensor of the node
    in_masks: list  # mask name per input, or None
    temp: Callable[[str], str]  # a unique local name for a temporary: temp("x") -> "seq_x"
    imports: set = field(default_factory=set)  # module aliases the lines use ("F")
    training: str = "self.training"
    keep_logits: bool = False  # a model output: keep sigmoid/softmax logits for the loss
    used: tuple = ()  # per output: does a later line or the model's outputs read it

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

    def F(self, name: str) -> str:
        """``torch.nn.functional``'s ``name`` as the module writes it, importing ``F``."""
        self.imports.add("F")
        return f"F.{name}"


class Emitter:
    def module(self, layer: ir.Layer, ins: list) -> str | None:
        """The torch module that holds the parameters (``nn.Linear(4, 8)``), or None."""
        return None

    def setup(self, layer: ir.Layer, mod: str) -> list[str]:
        """Lines after the module ``mod`` is made (freezing torch's extra recurrent bias)."""
        return []

    def weights(self, layer: ir.Layer) -> list[Weight]:
        """Keras weight -> module tensors; by default the same name, no conversion."""
        return [Weight(p.name, (p.name,), "copy") for p in layer.params]

    def initial(self, layer: ir.Layer, param: ir.Param) -> str:
        """Source of a call drawing ``param`` in Keras's layout from its initializer."""
        return initializer_call(param.initializer, param.shape)

    def forward(self, c: Application) -> list[str]:
        raise NotImplementedError

    def out_mask(self, c: Application, index: int) -> str | None:
        """The mask of output ``index`` (an expression or a mask's name); Keras passes the input's on."""
        return c.mask
