"""spec2net import: a Keras 3 `.keras` (or legacy `.h5`) model file read into a spec and a weights file.

``import_model("m.keras")`` reads the file within bounds (``archive``), maps its config onto the
registry (``layers``, ``values``, ``compile``), writes the spec as a person would (``writer``),
checks that spec with spec2net's own checker, and reads the weights into spec2net's keys
(``LAYER/PARAM``, Keras's layout) by the checked model's parameters. What the language lacks is
one ModelFileError: ``FILE: layer 'name' (Class): why``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..fileio import shown
from .archive import DEFAULT_MAX_WEIGHTS, ModelFileError, WeightStore, read_model_file
from .compile import compile_block
from .graph import LayerRefused, read_graph
from .values import Refused
from .writer import spec_text

__all__ = ["Imported", "ModelFileError", "import_model"]


@dataclass
class Imported:
    text: str  # the spec
    weights: dict  # LAYER/PARAM -> float32 array, Keras's layout
    net: object  # the checked spec2net.Net


def import_model(path, max_weights: int = DEFAULT_MAX_WEIGHTS) -> Imported:
    """The spec and weights of a Keras model file: ``import_model("m.keras").text``."""
    import spec2net

    config, compiled, store = read_model_file(path, max_weights)
    try:
        graph = read_graph(config)
        outputs = [name for name, _ in graph.outputs]
        lines = compile_block(compiled, outputs)
    except LayerRefused as e:
        raise ModelFileError(f"{shown(path)}: {e}") from None
    except Refused as e:
        raise ModelFileError(f"{shown(path)}: {e}") from None
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as e:  # a config Keras never wrote
        raise ModelFileError(f"{shown(path)}: the model config is not one Keras writes "
                             f"({type(e).__name__}: {e})") from None
    header = "# imported from a Keras model file by spec2net import"
    explicit: dict = {}
    for _ in range(3):  # a name that looked automatic but is not where the spec puts it: write it, once more
        try:
            text, order = spec_text(graph, lines, explicit, header)
        except Refused as e:
            raise ModelFileError(f"{shown(path)}: {e}") from None
        try:
            net = spec2net.loads(text, file=_base(path).rsplit(".", 1)[0] + ".net")
        except spec2net.SpecError as e:
            first = e.diagnostics[0] if getattr(e, "diagnostics", None) else e
            raise ModelFileError(f"{shown(path)}: the model does not check as a spec: {_one(first)}") from None
        wrong = {k for k, layer in zip(order, net.ir.layers) if layer.name != k}
        if not wrong:
            break
        explicit.update(dict.fromkeys(wrong, True))
    else:
        raise ModelFileError(f"{shown(path)}: layer names could not be kept: {sorted(wrong)}")
    _check_masks(path, graph, net.ir)
    weights = _weights(path, net.ir, store)
    return Imported(text, weights, net)


def _check_masks(path, graph, model) -> None:
    """Every call Keras gave a mask reads a masked input in the spec too: a mask computed by hand
    from operations (``mask=keras.ops.not_equal(x, 0)``) where the layers make none is refused."""
    by_name = {layer.name: layer for layer in model.layers}
    for c in graph.calls:
        layer = by_name.get(c.layer)
        if not c.masks or layer is None or c.index >= len(layer.nodes):
            continue
        if not any(t.masked for t in layer.nodes[c.index].inputs):
            raise ModelFileError(f"{shown(path)}: layer {c.layer!r} ({layer.type}): its call is given a mask that "
                                 "none of the language's layers makes (a mask computed by hand)")


def _one(d) -> str:
    return " ".join(str(getattr(d, "message", d)).split())


def _base(path) -> str:
    return str(path).replace("\\", "/").rsplit("/", 1)[-1]


def _weights(path, model, store: WeightStore) -> dict:
    """Each layer's parameters (the registry's, in Keras's variable order) from the file's arrays
    of that layer: own ones first, an inner layer's under its name; every shape checked."""
    out = {}
    for layer in model.layers:
        have = store.arrays(layer.name)
        by_sub: dict = {}
        for p in layer.params:
            sub = p.name.rpartition("/")[0]
            by_sub.setdefault(sub, []).append(p)
        for sub, params in by_sub.items():
            arrays = have.get(sub, [])
            where = f"{layer.name}/{sub}" if sub else layer.name
            if len(arrays) != len(params):
                raise ModelFileError(f"{shown(path)}: layer {layer.name!r} ({layer.type}): the file holds "
                                     f"{len(arrays)} weight(s) for {where}, the layer has {len(params)} "
                                     f"({', '.join(p.name for p in params)})")
            for p, a in zip(params, arrays):
                if tuple(a.shape) != tuple(p.shape):
                    raise ModelFileError(f"{shown(path)}: layer {layer.name!r} ({layer.type}): weight {p.name} "
                                         f"has shape {tuple(a.shape)}, the layer's is {tuple(p.shape)}")
                if not np.issubdtype(a.dtype, np.number):
                    raise ModelFileError(f"{shown(path)}: layer {layer.name!r}: weight {p.name} is not numbers")
                out[f"{layer.name}/{p.name}"] = np.asarray(a, dtype=np.float32)
        extra = {k for k, v in have.items() if v} - set(by_sub) - {""}
        if extra or (have.get("") and "" not in by_sub):
            raise ModelFileError(f"{shown(path)}: layer {layer.name!r} ({layer.type}): the file holds weights "
                                 "the layer does not have")
    return out
