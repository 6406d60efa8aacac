"""BatchNormalization and LayerNormalization, as the runtime's KerasBatchNorm and
KerasLayerNorm (Keras's parameter names and shapes; the formulas are in the runtime)."""

from __future__ import annotations

from spec2net.codegen import py_literal
from spec2net.registry import LAYERS

from .emitter import EMITTERS, Emitter


def _axes(layer, ins) -> tuple:
    """Keras's normalization axes as dims of the whole tensor (batch is 0)."""
    t = ins[0]
    return tuple(i + 1 for i in LAYERS[layer.type].axes(layer.args, t))


def _geometry(layer, ins):
    axes, rank = _axes(layer, ins), len(ins[0].shape) + 1
    # Keras's parameter shape; `view` reshapes it to broadcast
    feature = LAYERS[layer.type].feature_shape(layer.args, ins[0])
    view = tuple(ins[0].shape[d - 1] if d in axes else 1 for d in range(1, rank))
    return axes, rank, feature, (1,) + view


def _options(layer) -> str:
    """The keyword arguments that differ from the runtime class's defaults, which are Keras's."""
    a, defaults = layer.args, {a.name: a.default for a in LAYERS[layer.type].args}
    keys = [k for k in ("momentum", "epsilon", "center", "scale") if k in a and a[k] != defaults[k]]
    return "".join(f", {k}={py_literal(a[k])}" for k in keys)


def _masked(layer) -> bool:
    # any call on a masked input: Keras then weighs the batch moments by the mask
    return any(n.inputs[0].masked for n in layer.nodes)


@EMITTERS.register("BatchNormalization")
class BatchNormalization(Emitter):
    def module(self, layer, ins):
        axes, rank, feature, view = _geometry(layer, ins)
        reduce = tuple(d for d in range(rank) if d not in axes)
        cls = "rt.KerasMaskedBatchNorm" if _masked(layer) else "rt.KerasBatchNorm"
        return f"{cls}({py_literal(feature)}, {py_literal(reduce)}, {py_literal(view)}{_options(layer)})"

    def forward(self, c):
        mask = f", {c.mask}" if c.mask else ""
        # Keras runs a BatchNormalization with trainable=false in inference mode, also in training
        mod = c.mod if c.layer.trainable else f"{c.mod}.train(False)"
        return [f"{c.outs[0]} = {mod}({c.ins[0]}{mask})"]


@EMITTERS.register("LayerNormalization")
class LayerNormalization(Emitter):
    def module(self, layer, ins):
        axes, _, feature, view = _geometry(layer, ins)
        geometry = f"{py_literal(feature)}, {py_literal(axes)}, {py_literal(view)}"
        return f"rt.KerasLayerNorm({geometry}{_options(layer)})"

    def forward(self, c):
        return [f"{c.outs[0]} = {c.mod}({c.ins[0]})"]
