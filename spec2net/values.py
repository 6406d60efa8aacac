"""Values of the checker's evaluator besides tensors and constants."""

from __future__ import annotations

from dataclasses import dataclass, field

from . import ir
from .diagnostics import one_line
from .registry import LayerDef
from .registry.types import INT_MAX, FCall, Sym


class _Err:
    """An expression whose error is already reported; it silences follow-on errors."""

    def __repr__(self):
        return "ERR"


ERR = _Err()
QMARK = object()  # the `?` of a shape


@dataclass
class LayerClass:
    defn: LayerDef
    as_function: bool = False  # concatenate([...]): build and apply at once


@dataclass(eq=False)
class LayerValue:
    """A constructed layer: ``Dense(8)`` or a name bound to one."""

    layer: ir.Layer
    defn: LayerDef
    structural: dict = field(default_factory=dict)  # input_shape/input_dim/input_length


@dataclass
class DefValue:
    node: object  # syntax.Def


class DictVal(dict):
    """A dict literal that remembers where each key was written."""

    spans: dict


SHOWN_CHARS = 200  # of a shown value; a longer one (a list nested 10,000 deep) ends in '...'


class _Text(str):
    """A piece of punctuation queued by ``show`` between the items of a list or tuple."""


def show(v) -> str:
    """How a value reads in spec syntax, for 'Received: units=-3': ``show([1, "a"]) == '[1, "a"]'``.

    Lists and tuples are walked with an explicit stack, so no nesting depth recurses."""
    out, size, todo = [], 0, [v]
    while todo:
        x = todo.pop()
        if isinstance(x, _Text):
            piece = str(x)
        elif isinstance(x, (list, tuple)):
            opened, closed = ("[", "]") if isinstance(x, list) else ("(", ",)" if len(x) == 1 else ")")
            queue: list = [_Text(opened)]
            for i, item in enumerate(x):
                queue += [_Text(", "), item] if i else [item]
            todo += reversed([*queue, _Text(closed)])
            continue
        else:
            piece = _show_one(x)
        out.append(piece)
        size += len(piece)
        if size > SHOWN_CHARS:
            return "".join(out)[:SHOWN_CHARS] + "..."
    return "".join(out)


def _show_one(v) -> str:
    if v is None:
        return "none"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        # as spec source writes it; one_line escapes the rest, so a message never breaks a line
        return '"' + one_line(v.replace("\\", "\\\\").replace('"', '\\"')) + '"'
    if isinstance(v, int) and abs(v) > INT_MAX:  # only from Python (defines=); repr() fails past 4300 digits
        return f"an integer of {v.bit_length()} bits"
    if isinstance(v, Sym):
        return v.name
    if isinstance(v, FCall):
        return f"{v.name}(...)"
    if isinstance(v, ir.Tensor):
        return "a tensor"
    if isinstance(v, (LayerValue, LayerClass)):
        return "a layer"
    if isinstance(v, DefValue):
        return "a def block"
    if isinstance(v, ir.Ref):
        return str(v)
    return repr(v)

