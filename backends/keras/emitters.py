"""One Keras emitter per layer type: the ``keras.layers`` class, the Keras-only arguments the
language pins, and the names of the tensors a call returns.

The spec's arguments are Keras's own names (LANGUAGE.md section 7) and the checker has filled
every one of them, so an emitter writes ``layer.args`` as they stand and adds nothing of its own
but ``pinned``: arguments the language does not expose but whose Keras default could change the
numbers (Flatten reads ``data_format`` from the user's keras.json; a stateful RNN would carry
state across batches).
"""

from __future__ import annotations

from dataclasses import dataclass

from spec2net.codegen import py_literal

from .pyformat import Call
from .values import value_source


@dataclass(frozen=True)
class LayerEmitter:
    keras_class: str
    pinned: tuple = ()  # ((Keras argument, value), ...)
    states: tuple = ()  # name suffixes of the state tensors that return_state adds

    def constructor(self, layer) -> Call:
        """``layers.Dense(units=8, ..., name='dense')`` for ``layer``."""
        args = [(k, value_source(v)) for k, v in layer.args.items()]
        args += [(k, py_literal(v)) for k, v in self.pinned]
        args.append(("name", py_literal(layer.name)))
        if not layer.trainable:  # Keras's default is True; written only where the spec froze the layer
            args.append(("trainable", "False"))
        return Call(f"layers.{self.keras_class}", tuple(args))

    def output_suffixes(self, n_outputs: int) -> tuple:
        """Suffixes for the names of a call's outputs: ``("", "h", "c")`` for an LSTM with its states."""
        return ("",) + self.states[: n_outputs - 1]


_RNN_PINNED = (("stateful", False), ("unroll", False))

EMITTERS = {
    "Dense": LayerEmitter("Dense"),
    "Embedding": LayerEmitter("Embedding"),
    "Dropout": LayerEmitter("Dropout"),
    "Activation": LayerEmitter("Activation"),
    "LeakyReLU": LayerEmitter("LeakyReLU"),
    "Flatten": LayerEmitter("Flatten", pinned=(("data_format", "channels_last"),)),
    "Reshape": LayerEmitter("Reshape"),
    "SimpleRNN": LayerEmitter("SimpleRNN", _RNN_PINNED, states=("h",)),
    "LSTM": LayerEmitter("LSTM", _RNN_PINNED, states=("h", "c")),
    "GRU": LayerEmitter("GRU", _RNN_PINNED, states=("h",)),
    "BatchNormalization": LayerEmitter("BatchNormalization"),
    "LayerNormalization": LayerEmitter("LayerNormalization"),
    "Concatenate": LayerEmitter("Concatenate"),
    "Add": LayerEmitter("Add"),
    "Subtract": LayerEmitter("Subtract"),
    "Multiply": LayerEmitter("Multiply"),
    "Average": LayerEmitter("Average"),
    "Maximum": LayerEmitter("Maximum"),
    "Minimum": LayerEmitter("Minimum"),
}


def emitter(layer_type: str) -> LayerEmitter:
    """The emitter for a registry key: ``emitter("Dense").keras_class`` -> ``'Dense'``."""
    try:
        return EMITTERS[layer_type]
    except KeyError:
        raise NotImplementedError(f"the Keras backend has no emitter for layer {layer_type!r}; "
                                  f"it knows {', '.join(sorted(EMITTERS))}") from None
