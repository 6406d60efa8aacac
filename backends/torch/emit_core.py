"""Dense, Embedding, Dropout, Activation, LeakyReLU, Flatten, Reshape."""

from __future__ import annotations

from spec2net.codegen import py_literal

from .emitter import EMITTERS, Application, Emitter, Weight
from .functions import activation_expr

# Keras computes a cross-entropy over a sigmoid/softmax output from the logits
# under it (backend/tensorflow/nn.py, _get_logits); the module keeps them on the
# output tensor so that the loss can do the same.
_LOGIT_ACTIVATIONS = ("sigmoid", "softmax")


def activate(c: Application, pre: str, act) -> list[str]:
    """Lines binding ``c.outs[0]`` to ``act(pre)``, keeping the logits of a model output."""
    out = c.outs[0]
    if not (c.keep_logits and act.name in _LOGIT_ACTIVATIONS):
        return [f"{out} = {activation_expr(act, pre, c.imports)}"]
    logits = c.temp("logits")
    return [f"{logits} = {pre}",
            f"{out} = {activation_expr(act, logits, c.imports)}",
            f"{out}.{act.name}_logits = {logits}"]


@EMITTERS.register("Dense")
class Dense(Emitter):
    def module(self, layer, ins):
        bias = "" if layer.args["use_bias"] else ", bias=False"  # torch's default is a bias
        return f"nn.Linear({ins[0].shape[-1]}, {layer.args['units']}{bias})"

    def weights(self, layer):
        # torch's Linear keeps (out, in); Keras's kernel is (in, out)
        out = [Weight("kernel", ("weight",), "transpose")]
        return out + ([Weight("bias", ("bias",), "copy")] if layer.args["use_bias"] else [])

    def forward(self, c):
        return activate(c, f"{c.mod}({c.ins[0]})", c.a["activation"])


@EMITTERS.register("Embedding")
class Embedding(Emitter):
    def module(self, layer, ins):
        return f"nn.Embedding({layer.args['input_dim']}, {layer.args['output_dim']})"

    def weights(self, layer):
        return [Weight("embeddings", ("weight",), "copy")]

    def forward(self, c):
        # Keras casts ids of any other integer dtype to int32 (layers/core/embedding.py);
        # torch's embedding refuses them (uint8, int16, ...), so they become int64 here
        ids = c.ins[0] if c.node.inputs[0].type.dtype in ("int32", "int64") else f"{c.ins[0]}.long()"
        lines = [f"{c.outs[0]} = {c.mod}({ids})"]
        if _sparse_gradient(c.layer):
            lines.append(f"rt.keep_rows({c.mod}.weight, {ids}, {c.outs[0]})")
        return lines

    def out_mask(self, c, index):
        return f"{c.ins[0]} != 0" if c.a["mask_zero"] else None


def _sparse_gradient(layer) -> bool:
    # TensorFlow hands Keras's optimizer an Embedding's gradient as one row per lookup
    # (IndexedSlices) unless a penalty on the table adds a dense term to it
    return layer.args["embeddings_regularizer"] is None


@EMITTERS.register("Dropout")
class Dropout(Emitter):
    def forward(self, c):
        rate, shape = py_literal(c.a["rate"]), c.a["noise_shape"]
        if shape is None:
            return [f"{c.outs[0]} = {c.F('dropout')}({c.ins[0]}, {rate}, {c.training})"]
        # Keras's noise_shape counts the batch axis, as the runtime's dropout_noise_shape does
        noise = py_literal(tuple(shape))
        return [f"{c.outs[0]} = rt.dropout_noise_shape({c.ins[0]}, {rate}, {noise}, {c.training})"]


@EMITTERS.register("Activation")
class Activation(Emitter):
    def forward(self, c):
        return activate(c, c.ins[0], c.a["activation"])


@EMITTERS.register("LeakyReLU")
class LeakyReLU(Emitter):
    def forward(self, c):
        return [f"{c.outs[0]} = {c.F('leaky_relu')}({c.ins[0]}, {py_literal(c.a['negative_slope'])})"]


@EMITTERS.register("Flatten")
class Flatten(Emitter):
    def forward(self, c):
        if not c.node.inputs[0].type.shape:  # a per-sample scalar: Keras makes (batch,) (batch, 1)
            return [f"{c.outs[0]} = {c.ins[0]}.unsqueeze(1)"]
        return [f"{c.outs[0]} = {c.ins[0]}.flatten(1)"]

    def out_mask(self, c, index):
        return None


@EMITTERS.register("Reshape")
class Reshape(Emitter):
    def forward(self, c):
        dims = ", ".join(str(d) for d in c.a["target_shape"])
        return [f"{c.outs[0]} = {c.ins[0]}.reshape({c.ins[0]}.shape[0], {dims})"]

    def out_mask(self, c, index):
        return None
