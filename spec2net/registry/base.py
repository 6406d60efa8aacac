"""The layer registry: one LayerDef subclass per layer, registered by decorator.

An entry holds everything the front end knows of a layer: its arguments
(types, ranges, Keras 3 defaults), its shape rule, its parameters in Keras's
layout with their initializers, how it treats masks, and sample cases that
the registry-parametrized tests run against real Keras.
"""

from __future__ import annotations

from .. import messages as M
from ..ir import Param, Ref, TensorType
from ..messages import Problem
from .types import Arg, Func

LAYERS: dict[str, LayerDef] = {}


class ShapeError(Problem):
    """A shape rule failed: ``raise ShapeError(M.NEEDS_RANK, layer="Dense", shape=t)`` (spec2net.messages)."""


class LayerDef:
    name = ""  # the spec's (and Keras's) class name
    auto_name = ""  # Keras's automatic name stem (LANGUAGE.md section 9)
    aliases: tuple = ()
    args: tuple = ()
    merge = False  # called as a function on a list of tensors: concatenate([a, b])
    int_inputs = False  # accepts integer tensors
    first_input_dtype = "float32"  # a sequential's input, when this first layer gives its shape
    mask = "pass"  # "pass" keeps an input mask, "drop" drops it; others override out_masked
    # the largest max |difference| a float32 backend may show against Keras (or NumPy) on this
    # layer's outputs; a recurrence compounds rounding over its steps, so it takes a wider one
    tolerance = 1e-5
    # the rates that make training mode random (Dropout's rate, a recurrent layer's dropouts):
    # with all of them 0 a training step is deterministic and backends can be compared on it
    dropout_args: tuple = ()
    # (args, [(dtype, shape), ...]) cases for tests parametrized from the registry
    samples: tuple = ()

    # keyword arguments of the layer's call that take tensors (Keras's ``call``): "initial_state"
    call_args: tuple = ()
    layer_args: tuple = ()  # a wrapper's arguments that hold layers (registry/wrappers.py)

    def n_outputs(self, a: dict) -> int:
        return 1

    def takes_ints(self, a: dict) -> bool:
        """Whether integer tensors may come in (``int_inputs``; a wrapper asks its layer)."""
        return self.int_inputs

    def adopt(self, a: dict, name: str) -> dict:
        """A wrapper's arguments once its ``layer_args`` hold ``ir.Layer``s: those named and copied
        as Keras does (Bidirectional's ``forward_lstm``); a ShapeError for a layer it cannot wrap."""
        return a

    def state_types(self, a: dict) -> list[tuple[str, TensorType]]:
        """What ``initial_state=[...]`` takes, in order, each named: ``[("h", ...), ("c", ...)]``."""
        return []

    def infer(self, a: dict, ins: list[TensorType]) -> list[TensorType]:
        raise NotImplementedError

    def params(self, a: dict, ins: list[TensorType]) -> list[Param]:
        return []

    def check_masked(self, a: dict, ins: list[TensorType], in_masked: list[bool]) -> None:
        """Raise a ShapeError where the layer cannot take its inputs' masks."""

    def out_masked(self, a: dict, in_masked: list[bool]) -> list[bool]:
        keep = self.mask == "pass" and any(in_masked)
        return [keep] * self.n_outputs(a)

    def step_elements(self, a: dict, ins: list[TensorType]) -> int:
        """Values per sample and time step that training keeps beyond the outputs (a recurrent
        layer's gates and states, for backprop through time); the memory budget counts them."""
        return 0

    def output_activation(self, a: dict) -> str | None:
        """The activation whose input Keras keeps on this layer's output (``_keras_logits``) for a
        cross-entropy to read as logits: a Dense's or Activation's own, by default."""
        act = a.get("activation")
        return act.name if isinstance(act, Ref) else None


def register(cls):
    entry = cls()
    for key in (cls.name, *cls.aliases):
        LAYERS[key] = entry
    return cls


def canonical_layers() -> dict[str, LayerDef]:
    return {k: v for k, v in LAYERS.items() if k == v.name}


# -- helpers shared by the entries -------------------------------------------------
def init_arg(name: str, default: str) -> Arg:
    return Arg(name, Func("initializer"), Ref("initializer", default, _init_defaults(default)))


def reg_arg(name: str) -> Arg:
    return Arg(name, Func("regularizer", optional=True), None)


def _init_defaults(name: str) -> tuple:
    from .functions import REGISTRIES

    return tuple((arg.name, arg.default) for arg in REGISTRIES["initializer"][name].args)


def act_arg(name="activation", default="linear") -> Arg:
    return Arg(name, Func("activation", none="linear"), Ref("activation", default))


def one(ins: list[TensorType], layer: str) -> TensorType:
    if len(ins) != 1:
        raise ShapeError(M.TENSOR_COUNT, layer=layer, n=len(ins))
    return ins[0]


def known_last(t: TensorType, layer: str) -> int:
    if not t.shape:
        raise ShapeError(M.NEEDS_RANK, layer=layer, shape=t)
    if t.shape[-1] is None:
        raise ShapeError(M.NEEDS_LAST_DIM, layer=layer, shape=t)
    return t.shape[-1]


def param(name, shape, a, init_key, reg_key=None, trainable=True, initializer=None) -> Param:
    """A parameter drawn by the argument ``init_key``, or by ``initializer`` where the layer builds its own."""
    init = a[init_key] if initializer is None else initializer
    return Param(name, tuple(shape), init, trainable, a[reg_key] if reg_key else None)


def deterministic(layer_def: LayerDef, a: dict) -> bool:
    """Whether training mode draws no random numbers for these arguments (every dropout rate 0,
    a wrapper's inner layers' included)."""
    inner = [(LAYERS[x.type], x.args) for x in a.values() if hasattr(x, "type") and hasattr(x, "args")]
    return all(a[k] == 0 for k in layer_def.dropout_args) and all(deterministic(d, x) for d, x in inner)


def norm_axis(axis: int, rank: int, layer: str) -> int:
    """Keras's axis (batch is 0) -> index into the per-sample shape."""
    full = rank + 1
    if not -full <= axis < full:
        raise ShapeError(M.AXIS_OUT_OF_RANGE, layer=layer, axis=axis, rank=rank)
    index = axis % full
    if index == 0:
        raise ShapeError(M.AXIS_IS_BATCH, layer=layer, axis=axis)
    return index - 1
