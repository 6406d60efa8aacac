"""The driver: an ir.Model and its weights as an ``onnx.ModelProto``.

One pass over the IR's nodes in execution order, each through its emitter (``EMITTERS``),
keeping every tensor's ONNX name and Keras mask. Names come from the spec: the inputs and
outputs keep theirs, a tensor the spec bound (``seq, h, c = LSTM(...)``) is named after its
binding, every other one after its layer; a `?` dimension is a symbolic one named after its
input or output and axis (``tokens_dim1``), the batch is ``batch``.
"""

from __future__ import annotations

import onnx
from onnx import helper

from spec2net import __version__, ir
from spec2net import messages as M
from spec2net.budget import show_size
from spec2net.diagnostics import SpecError, diag
from spec2net.weights import check_weights

from . import emit_conv, emit_core, emit_merge, emit_norm, emit_recurrent, emit_simple, emit_wrappers  # noqa: F401
from .emitter import EMITTERS, Call
from .graph import ONNX_DTYPES, Graph, value_info

# opset 18: every op here in the form it has since (Reduce* take their axes as an input); the
# onnxruntime releases from 1.14 run all of it. Later opsets change none of the ops used here.
DEFAULT_OPSET = 18
MIN_OPSET = 18
MAX_BYTES = 2**31 - 2**24  # protobuf's 2 GiB for one message, less room for the graph itself


def _dims(name: str, shape) -> list:
    return ["batch", *(f"{name}_dim{i + 1}" if d is None else d for i, d in enumerate(shape))]


def _float(dtype: str) -> bool:
    return dtype.startswith(("float", "bfloat"))


def check_size(model: ir.Model, sources: dict | None = None) -> None:
    """Raise SpecError (code ``onnx-unsupported``, at the layer holding the most) when the weights
    cannot fit in one ONNX file; called before any weight is drawn."""
    sizes = [(sum(p.size for p in layer.params) * 4, layer) for layer in model.layers]
    total = sum(size for size, _ in sizes)
    if total <= MAX_BYTES:
        return
    size, big = max(sizes, key=lambda s: s[0])
    raise SpecError([diag(big.span, M.ONNX_TOO_LARGE, model=model.name, size=show_size(total), layer=big.name,
                          type=big.type, weights=show_size(size))], sources or {})


def build_model(model: ir.Model, weights: dict, opset: int = DEFAULT_OPSET) -> onnx.ModelProto:
    """The model as ONNX, its weights as initializers: ``build_model(net.ir, net.init_weights(0))``.
    Raises WeightsError (spec2net.weights) for weights that are not the model's, SpecError for a
    model ONNX cannot hold (``check_size``)."""
    return build_traced(model, weights, opset)[0]


def traced_model(model: ir.Model, weights: dict, opset: int = DEFAULT_OPSET) -> tuple:
    """``(model, names)`` where every layer call's output is also a graph output and ``names``
    maps each ``ir.Tensor`` to its ONNX name: what ``spec2net equiv`` compares tensor by tensor."""
    proto, names = build_traced(model, weights, opset)
    known = {o.name for o in proto.graph.output}
    for node in model.nodes:
        for t in node.outputs:
            if names[t] not in known:
                known.add(names[t])
                proto.graph.output.append(helper.make_tensor_value_info(
                    names[t], ONNX_DTYPES["float32" if _float(t.type.dtype) else t.type.dtype], None))
    return proto, {t: names[t] for node in model.nodes for t in node.outputs}


def build_traced(model: ir.Model, weights: dict, opset: int) -> tuple:
    """``(model, {ir.Tensor: its ONNX name})``."""
    check_size(model)
    check_weights(model, weights)
    g = Graph(used=[t.input_name for t in model.inputs] + [o.name for o in model.outputs])
    names, masks, inputs = {}, {}, []
    for t in model.inputs:
        inputs.append(value_info(t.input_name, t.type.dtype, _dims(t.input_name, t.type.shape)))
        names[t], masks[t] = t.input_name, None
        if _float(t.type.dtype) and t.type.dtype != "float32":  # the interpreter computes in float32
            names[t] = g.op("Cast", [t.input_name], t.input_name, to=onnx.TensorProto.FLOAT)
    claimed = {}  # an output's tensor is bound to the output's name directly
    for o in model.outputs:
        if o.tensor.producer is not None:
            claimed.setdefault(o.tensor, o.name)
    for node in model.nodes:
        layer = node.layer
        outs = [claimed.get(t) or g.name(t.name or (layer.name if len(node.outputs) == 1 else f"{layer.name}_{i}"))
                for i, t in enumerate(node.outputs)]
        c = Call(g, layer, layer.key_prefix, weights, [names[t] for t in node.inputs],
                 [t.type for t in node.inputs], [t.type for t in node.outputs], outs,
                 [masks[t] for t in node.inputs], node.initial_states)
        emitter = EMITTERS[layer.type]
        emitter.emit(c)
        for t, name, mask in zip(node.outputs, outs, emitter.out_masks(c)):
            names[t], masks[t] = name, mask
    outputs = []
    for o in model.outputs:
        if names[o.tensor] != o.name:  # an input, or a tensor that another output named first
            g.op("Identity", [names[o.tensor]], o.name, [o.name])
        dtype = "float32" if _float(o.tensor.type.dtype) else o.tensor.type.dtype
        outputs.append(value_info(o.name, dtype, _dims(o.name, o.tensor.type.shape)))
    graph = helper.make_graph(g.nodes, model.name, inputs, outputs, initializer=list(g.initializers.values()))
    opsets = [helper.make_opsetid("", opset)]
    return helper.make_model(graph, opset_imports=opsets, producer_name="spec2net", producer_version=__version__,
                             ir_version=helper.find_min_ir_version_for(opsets)), names


def model_bytes(model: ir.Model, weights: dict, opset: int = DEFAULT_OPSET) -> bytes:
    """The serialized model; the same IR, weights and opset always give the same bytes."""
    return build_model(model, weights, opset).SerializeToString(deterministic=True)
