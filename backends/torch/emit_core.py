"""Dense, Embedding, Dropout, Activation, LeakyReLU, Flatten, Reshape."""

from __future__ import annotations

from spec2net.codegen import py_literal

from .emitter import Call, Emitter, Weight, register
from .functions import activation_expr

# Keras computes a cross-entropy over a sigmoid/softmax output from the logits
# under it (backend/tensorflow/nn.py, _get_logits); the module keeps them on the
# output tensor so that compute_loss can do the same.
_LOGIT_ACTIVATIONS = ("sigmoid", "softmax")


def activate(c: Call, pre: str, act) -> list[str]:
    """Lines binding ``c.outs[0]`` to ``act(pre)``, keeping the logits of a model output."""
    out = c.outs[0]
    if not (c.keep_logits and act.name in _LOGIT_ACTIVATIONS):
        return [f"{out} = {activation_expr(act, pre)}"]
    return [f"{out}_logits = {pre}",
            f"{out} = {activation_expr(act, out + '_logits')}",
            f"{out}.{act.name}_logits = {out}_logits"]


@register("Dense")
class Dense(Emitter):
    def module(self, layer, ins):
        return f"nn.Linear({ins[0].shape[-1]}, {layer.args['units']}, bias={layer.args['use_bias']})"

    def weights(self, layer):
        # torch's Linear keeps (out, in); Keras's kernel is (in, out)
        out = [Weight("kernel", ("weight",), "transpose")]
        return out + ([Weight("bias", ("bias",), "copy")] if layer.args["use_bias"] else [])

    def forward(self, c):
        return activate(c, f"{c.mod}({c.ins[0]})", c.a["activation"])


@register("Embedding")
class Embedding(Emitter):
    def module(self, layer, ins):
        return f"nn.Embedding({layer.args['input_dim']}, {layer.args['output_dim']})"

    def weights(self, layer):
        return [Weight("embeddings", ("weight",), "copy")]

    def helpers_for(self, layer):
        return ("keep_rows",) if _sparse_gradient(layer) else ()

    def forward(self, c):
        # Keras casts ids of any other integer dtype to int32 (layers/core/embedding.py);
        # torch's embedding refuses them (uint8, int16, ...), so they become int64 here
        ids = c.ins[0] if c.node.inputs[0].type.dtype in ("int32", "int64") else f"{c.ins[0]}.long()"
        lines = [f"{c.outs[0]} = {c.mod}({ids})"]
        if _sparse_gradient(c.layer):
            lines.append(f"_keep_rows({c.mod}.weight, {ids}, {c.outs[0]})")
        return lines

    def out_mask(self, c, index):
        return f"{c.ins[0]} != 0" if c.a["mask_zero"] else None


def _sparse_gradient(layer) -> bool:
    # TensorFlow hands Keras's optimizer an Embedding's gradient as one row per lookup
    # (IndexedSlices) unless a penalty on the table adds a dense term to it
    return layer.args["embeddings_regularizer"] is None


@register("Dropout")
class Dropout(Emitter):
    def helpers_for(self, layer):
        return ("dropout_noise_shape",) if layer.args["noise_shape"] is not None else ()

    def forward(self, c):
        rate, shape = py_literal(c.a["rate"]), c.a["noise_shape"]
        if shape is None:
            return [f"{c.outs[0]} = F.dropout({c.ins[0]}, {rate}, {c.training})"]
        return [f"{c.outs[0]} = _dropout_noise_shape({c.ins[0]}, {rate}, {py_literal(tuple(shape))}, {c.training})"]


@register("Activation")
class Activation(Emitter):
    def forward(self, c):
        return activate(c, c.ins[0], c.a["activation"])


@register("LeakyReLU")
class LeakyReLU(Emitter):
    def forward(self, c):
        return [f"{c.outs[0]} = F.leaky_relu({c.ins[0]}, {py_literal(c.a['negative_slope'])})"]


@register("Flatten")
class Flatten(Emitter):
    def forward(self, c):
        return [f"{c.outs[0]} = {c.ins[0]}.flatten(1)"]

    def out_mask(self, c, index):
        return None


@register("Reshape")
class Reshape(Emitter):
    def forward(self, c):
        dims = ", ".join(str(d) for d in c.a["target_shape"])
        return [f"{c.outs[0]} = {c.ins[0]}.reshape({c.ins[0]}.shape[0], {dims})"]

    def out_mask(self, c, index):
        return None
