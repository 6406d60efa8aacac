"""The typed IR: what the checker produces and every backend consumes.

Small and backend-neutral (no Keras classes, no torch layouts): a Model is
its inputs, its layers (each with every argument filled from the registry),
the nodes that apply those layers to tensors in execution order, and its
outputs. Shapes are per-sample; ``None`` is a `?` dimension.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .diagnostics import Span


@dataclass(frozen=True)
class TensorType:
    dtype: str
    shape: tuple  # per-sample dims: int, or None for `?`

    def __str__(self) -> str:
        dims = ", ".join("None" if d is None else str(d) for d in (None, *self.shape))
        return f"({dims}{',' if not self.shape else ''})"

    @property
    def is_float(self) -> bool:
        return self.dtype.startswith(("float", "bfloat"))


@dataclass(frozen=True)
class Ref:
    """A resolved activation/initializer/regularizer/optimizer/loss/metric with all args filled."""

    kind: str
    name: str
    args: tuple = ()  # ((arg, value), ...) in registry order
    # the alias the spec wrote (`acc` for accuracy), "" for the name itself: not part of the value
    spelling: str = field(default="", compare=False, repr=False)

    @property
    def kwargs(self) -> dict:
        return dict(self.args)

    @property
    def written(self) -> str:
        """The name as the spec wrote it, which Keras's history keys keep (``metrics = [acc]`` logs ``acc``)."""
        return self.spelling or self.name

    def __str__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self.args)
        return f"{self.name}({inner})" if self.args else self.name


@dataclass(frozen=True)
class Param:
    """One weight of a layer, in Keras's layout and name (``kernel`` (in, out), ...)."""

    name: str
    shape: tuple
    initializer: Ref
    trainable: bool = True
    regularizer: Ref | None = None

    @property
    def size(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n


@dataclass(eq=False)
class Layer:
    type: str  # registry key, e.g. "Dense" (aliases resolved)
    name: str  # Keras's name (LANGUAGE.md section 9)
    args: dict  # every argument of the registry entry, defaults filled
    span: Span
    trainable: bool = True
    params: list = field(default_factory=list)  # set at the first call, from its input types
    nodes: list = field(default_factory=list)

    @property
    def key_prefix(self) -> str:
        return self.name + "/"


@dataclass(eq=False)
class Tensor:
    type: TensorType
    producer: Node | None = None  # None for a model input
    index: int = 0
    input_name: str | None = None
    masked: bool = False  # carries a Keras mask (from Embedding(mask_zero=true))
    # The spec's first binding of this tensor (`seq` in `seq, h, c = LSTM(...)`), the input's
    # name for an input, None where the spec never named it (a sequential, a `->` chain's middle).
    # Generated code names the tensor after it (codegen.Namer), so a reader finds the spec's names.
    name: str | None = None

    @property
    def ref(self) -> str:
        """Keras's summary notation: ``dense[0][0]``, or the input's name."""
        if self.producer is None:
            return self.input_name
        return f"{self.producer.layer.name}[{self.producer.call_index}][{self.index}]"


@dataclass(eq=False)
class Node:
    """One application of a layer; a shared layer has several."""

    layer: Layer
    inputs: list  # [Tensor]; a merge has several
    outputs: list  # [Tensor]
    span: Span
    call_index: int = 0
    # how many of ``inputs``, at the end, are a recurrent call's ``initial_state`` (Keras's call
    # keyword): ``LSTM(8)(x, initial_state=[h, c])`` has inputs [x, h, c] and 2 here
    initial_states: int = 0
    # the `def` calls whose expansion made this node, outermost first, as ((def name, Span of the
    # call), ...): empty in the model's own body. Two calls of one def differ by their spans (or
    # by an outer call's), so a picture can draw each expansion as a group.
    defs: tuple = ()


@dataclass
class Output:
    name: str
    tensor: Tensor
    span: Span


@dataclass
class Compile:
    optimizer: Ref
    loss: dict  # output name -> Ref
    loss_weights: dict  # output name -> float (1.0 where not given)
    # output name -> (Ref, ...): a spec's metric list gives every output the same; a dict, its own
    metrics: dict
    span: Span


@dataclass
class Model:
    name: str
    kind: str  # "model" | "sequential"
    file: str
    inputs: list  # [Tensor] with input_name set
    outputs: list  # [Output]
    layers: list  # [Layer] in creation order, only those the outputs use
    nodes: list  # [Node] in execution order
    compile: Compile | None = None
    fit: dict | None = None  # epochs, batch_size, validation_split, shuffle, callbacks (Refs)
    span: Span | None = None

    def weight_keys(self) -> list[tuple[str, Param]]:
        return [(layer.name + "/" + p.name, p) for layer in self.layers for p in layer.params]

    def count_params(self) -> tuple[int, int]:
        """(trainable, non-trainable) parameter counts, as Keras reports them."""
        t = n = 0
        for layer in self.layers:
            for p in layer.params:
                if p.trainable and layer.trainable:
                    t += p.size
                else:
                    n += p.size
        return t, n
