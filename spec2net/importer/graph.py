"""A Keras model config -> its graph as the spec sees it: inputs, layer calls in an order that
respects every dependency, and outputs.

Keras's functional config lists each layer with the calls (``inbound_nodes``) that feed it, a
tensor being ``[layer, call, index]``. The operations Keras adds to compute masks
(``keras.src.ops``'s NotEqual, Any, ...) feed only calls' ``mask`` keywords; the language makes
the same masks from its layers' own rules, so those operations are left out. An operation that
feeds a layer's data is code the language lacks, and is refused.
"""

from __future__ import annotations

import heapq
import re
from collections import Counter
from dataclasses import dataclass, field

from ..registry import LAYERS
from .layers import LayerCall, read_layer
from .values import Refused, plain


@dataclass
class Input:
    name: str
    dtype: str
    shape: tuple  # per sample, None for `?`


@dataclass
class Call:
    """One application of a layer: its input tensors, its initial_state tensors."""

    layer: str
    index: int  # which call of the layer
    inputs: list  # [(layer, call, index)]
    states: list = field(default_factory=list)
    merge_list: bool = False  # the inputs came as one list (a merge layer's)
    masks: list = field(default_factory=list)  # the tensors of its ``mask`` keyword


@dataclass
class Graph:
    name: str
    sequential: bool
    inputs: list  # [Input]
    layers: dict  # Keras name -> LayerCall, in the config's order
    calls: list  # [Call] in an order that respects dependencies
    outputs: list  # [(output name, (layer, call, index))]


class LayerRefused(Exception):
    def __init__(self, layer: str, cls: str, why: str):
        super().__init__(f"layer {layer!r} ({cls}): {why}")


def read_graph(config: dict) -> Graph:
    """The Graph of a serialized Keras model (``{"class_name": "Functional", "config": {...}}``)."""
    cls = config.get("class_name")
    body = config.get("config") or {}
    if cls == "Sequential":
        return _sequential(body)
    if cls not in ("Functional", "Model"):
        raise Refused(f"a {cls} model is not a functional or sequential one (a subclassed model holds "
                      "Python code, which import never runs)")
    return _functional(body)


def _layer(entry: dict) -> LayerCall:
    try:
        return read_layer(entry)
    except Refused as e:
        name = (entry.get("config") or {}).get("name") or entry.get("name")
        raise LayerRefused(str(name), str(entry.get("class_name")), str(e)) from None


def _input(entry: dict) -> Input:
    c = entry.get("config") or {}
    shape = c.get("batch_shape") or c.get("batch_input_shape")
    name = str(c.get("name") or entry.get("name"))
    if not isinstance(shape, list) or not shape:
        raise LayerRefused(name, "InputLayer", "it has no batch_shape")
    if c.get("sparse") or c.get("ragged"):
        raise LayerRefused(name, "InputLayer", "a sparse or ragged input is not one the language has")
    dtype = c.get("dtype") or "float32"
    if isinstance(dtype, dict):
        dtype = (dtype.get("config") or {}).get("name", "float32")
    return Input(name, str(dtype), tuple(plain(d) for d in shape[1:]))


def _is_op(entry: dict) -> bool:
    return str(entry.get("module") or "").startswith("keras.src.ops")


def _sequential(body: dict) -> Graph:
    entries = list(body.get("layers") or [])
    if not entries or entries[0].get("class_name") != "InputLayer":
        raise Refused("the Sequential model has no input shape (build it, or give it a keras.Input, "
                      "before saving)")
    inp = _input(entries[0])
    inp.name = "input"
    layers, calls, prev = {}, [], ("input", 0, 0)
    for entry in entries[1:]:
        call = _layer(entry)
        layers[call.name] = call
        calls.append(Call(call.name, 0, [prev]))
        prev = (call.name, 0, 0)
    return Graph(str(body.get("name", "model")), True, [inp], layers, calls, [("output", prev)])


def _tensor(v):
    if isinstance(v, dict) and v.get("class_name") == "__keras_tensor__":
        h = (v.get("config") or {}).get("keras_history")
        if isinstance(h, list) and len(h) == 3:
            return (str(h[0]), int(h[1]), int(h[2]))
    if isinstance(v, list) and len(v) >= 3 and isinstance(v[0], str):  # legacy [layer, call, index, kwargs]
        return (v[0], int(v[1]), int(v[2]))
    return None


def _tensors(v) -> list:
    """Every tensor in a (nested) call argument."""
    t = _tensor(v)
    if t is not None:
        return [t]
    if isinstance(v, (list, tuple)):
        return [x for item in v for x in _tensors(item)]
    if isinstance(v, dict):
        return [x for item in v.values() for x in _tensors(item)]
    return []


def _node_parts(node) -> tuple[list, dict]:
    if isinstance(node, dict):
        return list(node.get("args") or []), dict(node.get("kwargs") or {})
    return [node], {}  # legacy: a list of [layer, call, index, kwargs]


def _functional(body: dict) -> Graph:
    entries = list(body.get("layers") or [])
    inputs, layers, others, calls = [], {}, {}, []
    order = {}
    for pos, entry in enumerate(entries):
        name = str(entry.get("name") or (entry.get("config") or {}).get("name"))
        order[name] = pos
        if entry.get("class_name") == "InputLayer":
            inputs.append(_input(entry))
            continue
        if entry.get("class_name") not in LAYERS:  # a mask operation, unless data flows through it
            others[name] = entry
            continue
        layers[name] = _layer(entry)
        for k, node in enumerate(entry.get("inbound_nodes") or []):
            calls.append(_call(name, entry, k, node))
    by_name = {i.name: i for i in inputs}
    in_refs = _refs(body.get("input_layers"))
    inputs = [by_name[r[1][0]] for r in in_refs if r[1][0] in by_name] if in_refs else inputs
    outputs = _refs(body.get("output_layers"))
    data = [(t, "the model's output") for _, t in outputs]
    data += [(t, f"layer {c.layer!r}") for c in calls for t in c.inputs + c.states]
    for t, user in data:
        if t[0] in others:
            _refuse_other(t[0], others[t[0]], user)
    for c in calls:
        if any(t[0] not in others for t in c.masks):  # a layer's output or an input given as a mask
            raise LayerRefused(c.layer, layers[c.layer].type, "its call is given mask=... by hand; the language "
                               "makes masks only from its layers (Masking, Embedding(mask_zero=true))")
    seq = _is_chain(inputs, layers, calls, outputs)
    return Graph(str(body.get("name", "model")), seq, inputs, layers, _ordered(calls, order, inputs), outputs)


def _refuse_other(name: str, entry: dict, user: str):
    """An entry the language has no layer for, through which data flows: Lambda's, a custom
    layer's or an unknown class's own refusal, else an operation's."""
    if not _is_op(entry):
        _layer(entry)
    raise LayerRefused(name, str(entry.get("class_name")), f"an operation feeding {user}; the language has no "
                       "layer for it (import leaves out only the operations that compute masks)")


def _call(name, entry, k, node) -> Call:
    args, kwargs = _node_parts(node)
    cls = str(entry.get("class_name"))
    states, masks = [], []
    for key, v in kwargs.items():
        if key == "initial_state":
            states = _tensors(v)
        elif key == "mask":
            masks = _tensors(v)  # checked: Keras's own mask, which the language's layers make too
        elif key == "training" and v is True:
            raise LayerRefused(name, cls, "it is called with training=True (always in training mode), "
                                          "which the language lacks")
        elif v is not None and key != "training":
            raise LayerRefused(name, cls, f"its call takes {key}=..., which the language lacks")
    ins = _tensors(args)
    return Call(name, k, ins, states, bool(args) and isinstance(args[0], list) and len(ins) > 1, masks)


def _refs(v) -> list:
    """``[(name, tensor)]`` of Keras's input_layers / output_layers. A list names each by its layer,
    as Keras's ``output_names`` does; where two share a layer (an LSTM's states) the spec needs
    distinct names: ``lstm_0``, ``lstm_1``."""
    if v is None:
        return []
    if isinstance(v, dict):
        return [(str(k), (str(x[0]), int(x[1]), int(x[2]))) for k, x in v.items()]
    if v and isinstance(v[0], str):
        v = [v]
    refs = [(str(x[0]), int(x[1]), int(x[2])) for x in v]
    count = Counter(r[0] for r in refs)
    names = [r[0] if count[r[0]] == 1 else f"{r[0]}_{r[2]}" if r[1] == 0 else f"{r[0]}_{r[1]}_{r[2]}" for r in refs]
    return [(_identifier(n), r) for n, r in zip(names, refs)]


def _identifier(name: str) -> str:
    """A layer's name as an output's: Keras allows ``blk.1``, a spec's output is an identifier."""
    name = re.sub(r"\W", "_", name)
    name = "o_" + name if not name or name[0].isdigit() else name
    return name + "_out" if name in ("model", "sequential", "def", "let", "input", "output", "return", "compile",
                                     "fit", "true", "false", "none") else name


def _ordered(calls: list, order: dict, inputs: list) -> list:
    """Calls in dependency order, earliest in the config first among those ready (Kahn's)."""
    made = {(i.name, 0, 0) for i in inputs}
    by_key = {(c.layer, c.index): c for c in calls}
    waiting = {key: {(t[0], t[1]) for t in c.inputs + c.states if t not in made} for key, c in by_key.items()}
    users = {}
    for key, needs in waiting.items():
        for n in needs:
            users.setdefault(n, []).append(key)
    ready = [(order[k[0]], k[1], k) for k, needs in waiting.items() if not needs]
    heapq.heapify(ready)
    out = []
    while ready:
        _, _, key = heapq.heappop(ready)
        out.append(by_key[key])
        for u in users.get(key, []):
            waiting[u].discard(key)
            if not waiting[u]:
                heapq.heappush(ready, (order[u[0]], u[1], u))
    if len(out) != len(calls):
        stuck = min(set(by_key) - {(c.layer, c.index) for c in out})
        raise LayerRefused(stuck[0], "?", "its inputs are never computed (a cycle, or a missing layer)")
    return out


def _is_chain(inputs, layers, calls, outputs) -> bool:
    """A sequential model: one input named ``input``, one output named ``output``, each layer
    called once on the previous call's only output."""
    if len(inputs) != 1 or inputs[0].name != "input" or [o[0] for o in outputs] != ["output"]:
        return False
    prev = ("input", 0, 0)
    for c in calls:
        if c.index or c.states or c.inputs != [prev]:  # a layer's states may go unused, as a sequential's do
            return False
        prev = (c.layer, 0, 0)
    users = [t for c in calls for t in c.inputs]
    return outputs[0][1] == prev and len(users) == len(set(users))
