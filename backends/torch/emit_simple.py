"""RepeatVector, Permute, Masking, SpatialDropout1D, ReLU, ELU, Softmax, PReLU: each a line of
torch operations (Keras 3's formulas, written out); only PReLU holds a parameter."""

from __future__ import annotations

from spec2net.codegen import py_literal
from spec2net.ir import TensorType
from spec2net.registry import LAYERS

from .emitter import EMITTERS, Emitter


@EMITTERS.register("RepeatVector")
class RepeatVector(Emitter):
    def forward(self, c):
        return [f"{c.outs[0]} = {c.ins[0]}.unsqueeze(1).expand(-1, {c.a['n']}, -1)"]

    def out_mask(self, c, index):
        return None


@EMITTERS.register("Permute")
class Permute(Emitter):
    def forward(self, c):
        return [f"{c.outs[0]} = {c.ins[0]}.permute({', '.join(map(str, (0, *c.a['dims'])))})"]

    def out_mask(self, c, index):
        return None


@EMITTERS.register("Masking")
class Masking(Emitter):
    """A step is kept where any feature differs from ``mask_value``; masked steps become 0."""

    def forward(self, c):
        x, keep = c.ins[0], c.temp("mask")
        return [f"{keep} = ({x} != {py_literal(c.a['mask_value'])}).any(-1)",
                f"{c.outs[0]} = torch.where({keep}.unsqueeze(-1), {x}, 0.0)"]

    def out_mask(self, c, index):
        return c.temp("mask")  # the name forward bound


@EMITTERS.register("SpatialDropout1D")
class SpatialDropout1D(Emitter):
    def forward(self, c):
        # Keras's noise shape (batch, 1, channels): whole channels dropped, the same at every step
        rate = py_literal(c.a["rate"])
        return [f"{c.outs[0]} = rt.dropout_noise_shape({c.ins[0]}, {rate}, (None, 1, None), {c.training})"]


@EMITTERS.register("ReLU")
class ReLU(Emitter):
    def forward(self, c):
        return [f"{c.outs[0]} = {relu_expr(c, c.ins[0])}"]


def relu_expr(c, x: str) -> str:
    """Keras's activations.relu: x above the threshold (capped at max_value), otherwise
    -negative_slope * (threshold - x)."""
    top, slope, threshold = c.a["max_value"], c.a["negative_slope"], c.a["threshold"]
    if top is None and not threshold:
        return f"{c.F('leaky_relu')}({x}, {py_literal(slope)})" if slope else f"torch.relu({x})"
    y = f"torch.where({x} > {py_literal(threshold)}, {x}, 0.0)" if threshold else f"torch.relu({x})"
    if top is not None:
        y = f"{y}.clamp(0.0, {py_literal(top)})"
    if slope:
        y = f"{y} - {py_literal(slope)} * torch.relu({py_literal(threshold)} - {x})"
    return y


@EMITTERS.register("ELU")
class ELU(Emitter):
    def forward(self, c):
        # torch's elu is alpha * expm1(x) below 0, as tf.nn.elu scaled by Keras
        return [f"{c.outs[0]} = {c.F('elu')}({c.ins[0]}, {py_literal(c.a['alpha'])})"]


@EMITTERS.register("Softmax")
class Softmax(Emitter):
    def forward(self, c):
        x, t = c.ins[0], c.node.inputs[0].type
        dims = [i + 1 for i in LAYERS["Softmax"].axes(c.a, TensorType(t.dtype, t.shape))]
        if len(dims) == 1 and c.keep_logits:
            # a model output keeps its logits, which Keras's cross-entropies read (emit_core.activate)
            logits = c.temp("logits")
            return [f"{logits} = {x}", f"{c.outs[0]} = torch.softmax({logits}, dim={dims[0]})",
                    f"{c.outs[0]}.softmax_logits = {logits}"]
        if len(dims) == 1:
            return [f"{c.outs[0]} = torch.softmax({x}, dim={dims[0]})"]
        # Keras's several axes: exp(x - logsumexp(x)) over all of them at once
        return [f"{c.outs[0]} = torch.exp({x} - torch.logsumexp({x}, dim={tuple(dims)}, keepdim=True))"]


@EMITTERS.register("PReLU")
class PReLU(Emitter):
    def module(self, layer, ins):
        # only the parameter: torch's nn.PReLU shares alpha over every axis but the channels,
        # Keras's shares it over shared_axes only
        shape = LAYERS["PReLU"].alpha_shape(layer.args, ins[0])
        return f'nn.ParameterDict({{"alpha": nn.Parameter(torch.zeros({py_literal(shape)}))}})'

    def forward(self, c):
        x = c.ins[0]
        return [f"{c.outs[0]} = torch.relu({x}) - {c.mod}.alpha * torch.relu(-{x})"]
