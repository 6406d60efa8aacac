"""One Keras emitter per layer type: the ``keras.layers`` class, the Keras-only arguments the
language pins, and the names of the tensors a call returns.

The spec's arguments are Keras's own names (LANGUAGE.md section 7) and the checker has filled
every one of them from the registry, whose defaults are Keras 3's; an emitter writes those that
differ from their default, as a Keras user would, and adds nothing of its own but ``pinned``:
arguments the language does not expose whose Keras default depends on where the module runs
(Flatten reads ``data_format`` from the user's keras.json).
"""

from __future__ import annotations

from dataclasses import dataclass

from spec2net.codegen import py_literal
from spec2net.pyformat import CallExpr
from spec2net.registry import LAYERS
from spec2net.tables import Table

from .values import is_default, value_source

EMITTERS = Table("Keras emitter")


@dataclass(frozen=True)
class LayerEmitter:
    keras_class: str
    pinned: tuple = ()  # ((Keras argument, value), ...)
    states: tuple = ()  # name suffixes of the state tensors that return_state adds
    # The operations the layer's compute_mask adds to a functional graph, named after their
    # functions, and when it adds them: "mask_zero" (its own argument), "any" or "all" inputs
    # masked, "always"
    mask_ops: tuple = ()
    mask_when: str = "all"

    def constructor(self, layer) -> CallExpr:
        """``layers.Dense(units=8, name="dense")`` for ``layer``: its arguments that differ from
        Keras 3's defaults, the pinned ones, and its name."""
        defaults = {a.name: a.default for a in LAYERS[layer.type].args}
        pinned = dict(self.pinned)  # a pinned value replaces the spec's (data_format: none means channels_last)
        args = [(k, value_source(v)) for k, v in layer.args.items() if not is_default(v, defaults[k]) and k not in pinned]
        args += [(k, py_literal(v)) for k, v in pinned.items()]
        args.append(("name", py_literal(layer.name)))
        if not layer.trainable:  # Keras's default is True; written only where the spec froze the layer
            args.append(("trainable", "False"))
        return CallExpr(f"layers.{self.keras_class}", tuple(args))

    def mask_op_names(self, node) -> tuple:
        """The mask operations one call adds: ``("not_equal",)`` for Embedding(mask_zero=true)."""
        masked = [t.masked for t in node.inputs]
        if self.mask_when == "mask_zero":
            on = node.layer.args["mask_zero"]
        elif self.mask_when == "always":  # Masking makes its mask from the values
            on = True
        else:
            on = (any if self.mask_when == "any" else all)(masked)
        return self.mask_ops if on else ()

    def output_suffixes(self, n_outputs: int) -> tuple:
        """Suffixes for the names of a call's outputs: ``("", "h", "c")`` for an LSTM with its states."""
        return ("",) + self.states[: n_outputs - 1]


@dataclass(frozen=True)
class WrapperEmitter(LayerEmitter):
    """Bidirectional and TimeDistributed: each inner layer written inline by its own emitter.
    Bidirectional's are written under their final names (``forward_lstm``, which Keras keeps,
    and ``backward_lstm`` as an explicit ``backward_layer``), so Keras's renaming has nothing left
    to decide and the weights paths are the spec's."""

    def constructor(self, layer) -> CallExpr:
        a = layer.args
        args = [(None, emitter(a["layer"].type).constructor(a["layer"]))]
        if "merge_mode" in a and a["merge_mode"] != "concat":
            args.append(("merge_mode", py_literal(a["merge_mode"])))
        if a.get("backward_layer") is not None:
            args.append(("backward_layer", emitter(a["backward_layer"].type).constructor(a["backward_layer"])))
        args.append(("name", py_literal(layer.name)))
        if not layer.trainable:
            args.append(("trainable", "False"))
        return CallExpr(f"layers.{self.keras_class}", tuple(args))

    def output_suffixes(self, n_outputs: int) -> tuple:
        return ("",) + tuple(str(i) for i in range(1, n_outputs))


_MERGE_MASK = ("logical_or",)

# keyed by the Keras class name, which is the registry key of every layer the language has
for _e in (
    LayerEmitter("Dense"),
    LayerEmitter("Embedding", mask_ops=("not_equal",), mask_when="mask_zero"),
    LayerEmitter("Dropout"),
    LayerEmitter("Activation"),
    LayerEmitter("LeakyReLU"),
    LayerEmitter("Flatten", pinned=(("data_format", "channels_last"),)),
    LayerEmitter("Reshape"),
    LayerEmitter("SimpleRNN", states=("h",)),
    LayerEmitter("LSTM", states=("h", "c")),
    LayerEmitter("GRU", states=("h",)),
    LayerEmitter("BatchNormalization"),
    LayerEmitter("LayerNormalization"),
    LayerEmitter("Concatenate", mask_ops=("ones_like", "logical_or", "expand_dims", "zeros_like", "concatenate",
                                          "any"), mask_when="any"),
    LayerEmitter("Add", mask_ops=_MERGE_MASK),
    LayerEmitter("Subtract", mask_ops=_MERGE_MASK),
    LayerEmitter("Multiply", mask_ops=_MERGE_MASK),
    LayerEmitter("Average", mask_ops=_MERGE_MASK),
    LayerEmitter("Maximum", mask_ops=_MERGE_MASK),
    LayerEmitter("Minimum", mask_ops=_MERGE_MASK),
    LayerEmitter("RepeatVector"),
    LayerEmitter("Permute"),
    LayerEmitter("Masking", mask_ops=("not_equal", "any"), mask_when="always"),
    LayerEmitter("SpatialDropout1D"),
    LayerEmitter("ReLU"),
    LayerEmitter("ELU"),
    LayerEmitter("Softmax"),
    LayerEmitter("PReLU"),
    # convolution and pooling: data_format's Keras default is keras.json's, the language's channels_last
    *(LayerEmitter(cls, pinned=(("data_format", "channels_last"),))
      for cls in ("Conv1D", "Conv2D", "MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D",
                  "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalAveragePooling1D", "GlobalAveragePooling2D")),
    WrapperEmitter("Bidirectional"),
    WrapperEmitter("TimeDistributed"),
):
    EMITTERS.add(_e, _e.keras_class)


def emitter(layer_type: str) -> LayerEmitter:
    """The emitter for a registry key (``tables.MissingEntry``, listing the known ones, if none):
    ``emitter("Dense").keras_class`` -> ``'Dense'``."""
    return EMITTERS[layer_type]

