"""The torch backend's driver: names, per-layer emitters, templates -> one module's source.

The driver walks the IR once; everything layer-specific comes from EMITTERS
(``emit_*.py``), everything about layout of the file from the ``*.j2`` templates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources

import jinja2

from spec2net import ir
from spec2net.codegen import comment_text, doc_text, header, py_literal, safe_identifier, spec_file_name
from spec2net.registry import LAYERS
from spec2net.registry.types import REQUIRED

from . import emit_core, emit_merge, emit_norm, emit_recurrent  # noqa: F401  (registration)
from .emitter import EMITTERS, Call
from .functions import regularizer_expr
from .training import training_context

# nn.Module's own attributes: no layer may take one as its attribute name
_MODULE_ATTRS = {
    "training", "forward", "train", "eval", "parameters", "buffers", "children", "modules", "state_dict",
    "to", "cpu", "cuda", "float", "double", "half", "type", "apply", "zero_grad", "register_buffer",
    "register_parameter", "register_module", "add_module", "get_submodule", "named_parameters",
    "named_buffers", "named_modules", "named_children", "requires_grad_", "activity_losses", "extra_repr",
    "load_state_dict", "share_memory", "compile", "ipu", "xpu", "mtia", "bfloat16", "get_parameter",
    "get_buffer", "get_extra_state", "set_extra_state", "call_super_init", "dump_patches",
}
# module-level names of the generated file: no input or tensor may shadow one
_GLOBALS = {
    "np", "torch", "F", "nn", "self", "INPUT_NAMES", "OUTPUT_NAMES", "WEIGHTS", "CONVERSIONS", "INPUT_DTYPES",
    "TARGET_DTYPES", "KerasBatchNorm", "KerasMaskedBatchNorm", "KerasLayerNorm", "KerasOptimizer", "SGD", "Adam",
    "RMSprop", "Adagrad",
}
# suffixes a tensor's name may get inside the forward method (states, masks, logits, step-loop temporaries)
_SUFFIXES = ("", "_h", "_c", "_seq", "_x", "_h0", "_step", "_mask", "_logits")


def _env() -> jinja2.Environment:
    here = resources.files(__package__)
    return jinja2.Environment(
        loader=jinja2.FunctionLoader(lambda name: here.joinpath(name).read_text(encoding="utf-8")),
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True,
        autoescape=False,
    )


def camel_case(name: str) -> str:
    """``camel_case("multi_output")`` -> ``"MultiOutput"``."""
    return "".join(p[:1].upper() + p[1:] for p in name.split("_") if p) or "Model"


def describe(layer: ir.Layer) -> str:
    """The layer as a spec would write it, arguments at their defaults left out: ``Dense(1, activation=sigmoid)``."""
    parts = []
    for arg in LAYERS[layer.type].args:
        value = layer.args.get(arg.name)
        if arg.default is REQUIRED:
            parts.append(str(value))
        elif value != arg.default:
            text = str(value).lower() if isinstance(value, bool) else str(value)
            parts.append(f"{arg.name}={text}")
    return f"{layer.type}({', '.join(parts)})"


@dataclass
class Block:
    comment: str
    lines: list = field(default_factory=list)


class _Names:
    """The forward method's local names; helpers' and tables' names start with ``_`` or are in _GLOBALS."""

    def __init__(self, cls: str):
        self.taken = _GLOBALS | {cls}

    def tensor(self, name: str) -> str:
        """A name free together with every suffix the forward method may add to it."""
        while True:
            base = safe_identifier(name.lstrip("_") or "t", self.taken)
            if all(base + s not in self.taken for s in _SUFFIXES[1:]):
                self.taken.update(base + s for s in _SUFFIXES)
                return base
            name = base


def build_source(model: ir.Model) -> str:
    """The generated PyTorch module for ``model``: ``build_source(spec2net.load("mlp.net").ir)``."""
    cls = safe_identifier(camel_case(model.name), set(_GLOBALS))
    names, taken_attrs = _Names(cls), set(_MODULE_ATTRS)
    spec = doc_text(spec_file_name(model.file))  # the file's name is the user's text: it must not end the docstring
    helpers = {"generator": None}
    attrs = {layer: safe_identifier(layer.name, taken_attrs) for layer in model.layers}
    var, mask = {}, {}  # ir.Tensor -> source name; ir.Tensor -> mask name
    args = []
    for t in model.inputs:
        var[t] = names.tensor(t.input_name)
        args.append(var[t])
    outputs = {o.tensor for o in model.outputs}

    init = []
    for layer in model.layers:
        emitter = EMITTERS[layer.type]
        helpers.update(dict.fromkeys(emitter.helpers_for(layer)))
        made = emitter.module(layer, [t.type for t in layer.nodes[0].inputs])
        if made is None:
            continue
        block = Block(comment_text(f"{spec}:{layer.span.line}: {layer.name} = {describe(layer)}"))
        block.lines.append(f"self.{attrs[layer]} = {made}")
        block.lines += emitter.setup(layer, attrs[layer])
        init.append(block)

    activity = any(layer.args.get("activity_regularizer") for layer in model.layers)
    forward = [Block("", ["self.activity_losses = []  # Keras's activity penalties of this call"])] if activity else []
    # Keras's layers cast floating inputs to their float32 compute dtype (autocast), as the
    # NumPy interpreter does; torch would refuse float64 or float16 against float32 weights
    casts = [f"{var[t]} = {var[t]}.float()" for t in model.inputs if t.type.is_float and t.type.dtype != "float32"]
    if casts:
        forward.append(Block("Keras computes in float32", casts))
    for node in model.nodes:
        layer, emitter = node.layer, EMITTERS[node.layer.type]
        stem = layer.name if node.call_index == 0 else f"{layer.name}_{node.call_index}"
        out = names.tensor(stem)
        c = Call(node, f"self.{attrs[layer]}", [var[t] for t in node.inputs], [],
                 [mask.get(t) for t in node.inputs], keep_logits=any(t in outputs for t in node.outputs))
        c.outs = [out + s for s in emitter.suffixes(layer)]
        block = Block(comment_text(f"{spec}:{node.span.line}: {describe(layer)}"), emitter.forward(c))
        for i, t in enumerate(node.outputs):
            var[t] = c.outs[i]
            m = emitter.out_mask(c, i) if t.masked else None
            if m is not None and not m.isidentifier():
                block.lines.append(f"{c.outs[i]}_mask = {m}")
                m = f"{c.outs[i]}_mask"
            if m is not None:
                mask[t] = m
        reg = layer.args.get("activity_regularizer")
        if reg is not None:
            # Keras divides an activity penalty by the batch size
            block.lines += [f"self.activity_losses.append(({regularizer_expr(reg, [o])}) / {o}.shape[0])"
                            for o in c.outs]
        forward.append(block)

    # a masked output carries its Keras mask, as Keras's tensors do (_keras_mask): Keras
    # weighs that output's loss by it, and compute_loss reads it there
    masked_outputs = [t for t in dict.fromkeys(o.tensor for o in model.outputs) if t in mask]
    if masked_outputs:
        forward.append(Block("the outputs' Keras masks", [f"{var[t]}.keras_mask = {mask[t]}" for t in masked_outputs]))

    weights, inits = _weights(model, attrs, helpers)
    returns = ", ".join(var[o.tensor] for o in model.outputs)
    context = {
        "header": header(model, "torch"), "cls": cls, "model": model, "spec": spec,
        "input_names": py_literal(tuple(t.input_name for t in model.inputs)),
        "output_names": py_literal(tuple(o.name for o in model.outputs)),
        "args": args, "init": init, "forward": forward, "activity": activity,
        "returns": returns, "weights": weights, "inits": inits,
        "conversions": sorted({w["conversion"] for w in weights}),
    }
    context.update(training_context(model, attrs, weights, var, helpers))
    env = _env()
    context["helpers"] = [_helper(env, h) for h in helpers]
    template = env.get_template("module.py.j2")
    # like torch.fx's codegen, import only what the body uses
    body = template.render(**context, functional=False)
    source = template.render(**context, functional=re.search(r"\bF\.", body) is not None)
    return source.rstrip("\n") + "\n"


def _helper(env, name: str) -> str:
    """One helper snippet: a macro of helpers.py.j2 (layers) or losses.py.j2 (training)."""
    for file in ("helpers.py.j2", "losses.py.j2"):
        macro = getattr(env.get_template(file).module, name, None)
        if macro is not None:
            return str(macro()).strip("\n")
    raise KeyError(f"no helper snippet {name!r}")


def _weights(model, attrs, helpers):
    """The WEIGHTS table rows and the initializer call of every Keras weight."""
    rows, inits = [], []
    for layer in model.layers:
        emitter = EMITTERS[layer.type]
        params = {p.name: p for p in layer.params}
        for w in emitter.weights(layer):
            p = params[w.param]
            key = layer.name + "/" + p.name
            tensors = tuple(f"{attrs[layer]}.{t}" for t in w.tensors)
            rows.append({"key": py_literal(key), "tensors": py_literal(tensors), "conversion": w.conversion,
                         "shape": py_literal(tuple(p.shape)), "param": p, "paths": tensors, "layer": layer,
                         "trainable": p.trainable and layer.trainable})
            helper, call = emitter.initial(layer, p)
            if helper:
                helpers[helper] = None
            inits.append({"key": py_literal(key), "call": call, "name": p.initializer.name})
    return rows, inits
