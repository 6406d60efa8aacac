"""The torch backend's driver: IR -> one module's source, as torch.fx's codegen does it.

The driver walks the IR once; everything layer-specific comes from EMITTERS (``emit_*.py``),
the layout of the file from ``module.py.j2``, and everything the module runs that is not
specific to the spec from ``spec2net.runtime.torch``, which the module imports (or, with
``standalone``, carries pasted in: ``standalone.py``). Names come from one ``codegen.Namer``
keyed by IR object, starting from the spec's own binding names (``seq, h, c = LSTM(...)``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources

import jinja2

from spec2net import ir
from spec2net.codegen import GeneratedModule, Namer, doc_text, py_literal, spec_file_name
from spec2net.pyformat import Seq, render
from spec2net.registry import LAYERS
from spec2net.registry.types import REQUIRED

from . import (  # noqa: F401  (they fill EMITTERS)
    emit_conv,
    emit_core,
    emit_merge,
    emit_norm,
    emit_recurrent,
    emit_simple,
    emit_wrappers,
)
from .emitter import EMITTERS, Application
from .functions import regularizer_expr
from .layout import class_doc, fit_comment, fit_line, init_line, module_header, with_comment
from .standalone import RUNTIME_NAMES, runtime_source
from .training import training_context

# the module's own top-level names and imports: no spec name may take one
MODULE_NAMES = frozenset({
    "np", "torch", "F", "nn", "rt", "self", "INPUT_NAMES", "OUTPUT_NAMES", "WEIGHTS", "TRAINING",
    "get_weights", "set_weights", "load_weights", "save_weights", "initial_weights", "build_model",
    "make_optimizer", "regularization_loss", "compute_loss", "train_step", "fit", "evaluate", "types", "g",
    "layers",
})


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
    """The layer as a spec writes it, without arguments at their defaults: ``Dense(1, activation=tanh)``."""
    parts = []
    for arg in LAYERS[layer.type].args:
        value = layer.args.get(arg.name)
        if isinstance(value, ir.Layer):  # a wrapper's layer, written inline
            parts.append(describe(value) if arg.default is REQUIRED else f"{arg.name}={describe(value)}")
        elif arg.default is REQUIRED:
            parts.append(str(value))
        elif value != arg.default:
            text = str(value).lower() if isinstance(value, bool) else str(value)
            parts.append(f"{arg.name}={text}")
    return f"{layer.type}({', '.join(parts)})"


@dataclass
class Block:
    comment: str
    lines: list = field(default_factory=list)
    node: ir.Node | None = None  # the IR node the lines compute, for GeneratedModule.line_nodes


class _Forward:
    """The forward method: tensor names, masks, imports, one Block per node."""

    def __init__(self, model: ir.Model, names: Namer, keys: dict, spec: str):
        self.model, self.names, self.keys, self.spec = model, names, keys, spec
        self.mask: dict = {}  # ir.Tensor -> mask name
        self.imports: set = set()
        self.outputs = {o.tensor for o in model.outputs}
        # tensors something reads: an emitter binds an unused one only where torch makes it anyway
        self.used = self.outputs | {t for n in model.nodes for t in n.inputs}
        self.aliases: dict = {}  # tensor -> the local that holds it where an emitter bound no name
        self.output_names = {o.tensor: o.name for o in reversed(model.outputs)}  # the first name of each
        self.args = [names.name(t, t.input_name) for t in model.inputs]
        self.blocks: list[Block] = []
        self._temps: dict = {}

    def temp(self, tensor, suffix: str) -> str:
        """A unique name for a temporary of ``tensor``: ``seq_mask``, ``seq_x``."""
        key = self._temps.setdefault((id(tensor), suffix), object())
        return self.names.name(key, f"{self.names.name(tensor, 't')}_{suffix}")

    def build(self) -> list[Block]:
        if any(layer.args.get("activity_regularizer") for layer in self.model.layers):
            self.blocks.append(Block("", ["self.activity_losses = []  # this call's activity penalties"]))
        # Keras's layers cast floating inputs to their float32 compute dtype (autocast), as the
        # NumPy interpreter does; torch would refuse float64 or float16 against float32 weights
        casts = [f"{self.var(t)} = {self.var(t)}.float()" for t in self.model.inputs
                 if t.type.is_float and t.type.dtype != "float32"]
        if casts:
            self.blocks.append(Block("Keras computes in float32", casts))
        for node in self.model.nodes:
            block = self.node_block(node)
            block.lines = [fit_line(line, 8) for line in block.lines]
            self.blocks.append(block)
        # a masked output carries its Keras mask, as Keras's tensors do (_keras_mask): Keras
        # weighs that output's loss by it, and the runtime's losses read it there
        masked = [t for t in dict.fromkeys(o.tensor for o in self.model.outputs) if t in self.mask]
        if masked:
            self.blocks.append(Block("the outputs' Keras masks",
                                     [f"{self.var(t)}.keras_mask = {self.mask[t]}" for t in masked]))
        return self.blocks

    def var(self, tensor) -> str:
        return self.names.name(tensor, tensor.name or "t")

    def node_block(self, node: ir.Node) -> Block:
        layer, emitter = node.layer, EMITTERS[node.layer.type]
        stem = layer.name if node.call_index == 0 else f"{layer.name}_{node.call_index}"
        outs = [self.names.name(t, t.name or self.output_names.get(t) or stem) for t in node.outputs]
        c = Application(node, f"layers[{py_literal(self.keys[layer])}]", [self.var(t) for t in node.inputs],
                        list(outs), [self.mask.get(t) for t in node.inputs],
                        lambda suffix: self.temp(node.outputs[0], suffix),
                        self.imports, keep_logits=any(t in self.outputs for t in node.outputs),
                        used=tuple(t in self.used for t in node.outputs))
        bound = [t.name for t in node.outputs if t.name]
        binding = f"{', '.join(bound)} = " if bound else ""
        block = Block(fit_comment(f"{self.spec}:{node.span.line}: {binding}{describe(layer)}", 10),
                      emitter.forward(c), node)
        for t, name, bound in zip(node.outputs, outs, c.outs):
            if bound != name:  # the emitter left an unread output in another local (an RNN's h)
                self.aliases[t] = bound
        for i, t in enumerate(node.outputs):
            m = emitter.out_mask(c, i) if t.masked else None
            if m is not None and not m.isidentifier():
                name = self.temp(t, "mask")
                block.lines.append(f"{name} = {m}")
                m = name
            if m is not None:
                self.mask[t] = m
        reg = layer.args.get("activity_regularizer")
        if reg is not None:
            # Keras divides an activity penalty by the batch size
            block.lines += [f"self.activity_losses.append({regularizer_expr(reg, [o])} / {o}.shape[0])"
                            for o in outs]
        return block


def build_source(model: ir.Model, standalone: bool = False) -> GeneratedModule:
    """The generated PyTorch module for ``model``: ``build_source(spec2net.load("mlp.net").ir).source``.

    ``standalone`` pastes the runtime's files in instead of importing ``spec2net.runtime.torch``.
    """
    names = Namer(reserved=MODULE_NAMES | RUNTIME_NAMES)
    cls = names.name(model, camel_case(model.name))
    # the file's name is the user's text: it must not end the docstring
    spec = doc_text(spec_file_name(model.file))
    keys = _layer_keys(model)
    fwd = _Forward(model, names, keys, spec)
    forward = fwd.build()
    weights = _weights(model, keys)
    context = {
        "header": module_header(model, standalone), "cls": cls, "model": model, "spec": spec,
        "class_doc": class_doc(model.name, spec),
        "input_names": py_literal(tuple(t.input_name for t in model.inputs)),
        "output_names": py_literal(tuple(o.name for o in model.outputs)),
        "args": fwd.args, "init": _init_blocks(model, keys, spec), "forward": forward,
        "activity": any(layer.args.get("activity_regularizer") for layer in model.layers),
        "returns": ", ".join(fwd.var(o.tensor) for o in model.outputs),
        "weights": render(Seq("{", "}", tuple((py_literal(w["key"]), w["row"]) for w in weights))),
        "inits": [init_line(py_literal(w["key"]), w["init"], w["init_name"]) for w in weights],
        "functional": "F" in fwd.imports, "runtime": runtime_source() if standalone else None,
    }
    context.update(training_context(model, weights))
    source = _env().get_template("module.py.j2").render(**context).rstrip("\n") + "\n"
    return GeneratedModule(source, {id(t): n for t, n in _tensor_names(model, fwd)},
                           _line_nodes(source, forward))


def _layer_keys(model: ir.Model) -> dict:
    """Each layer's key in the module's ``layers`` (an rt.LayerDict: any key is safe there)."""
    keys = Namer()
    return {layer: keys.name(layer, layer.name) for layer in model.layers}


def _init_blocks(model: ir.Model, keys: dict, spec: str) -> list[Block]:
    blocks = []
    for layer in model.layers:
        emitter = EMITTERS[layer.type]
        made = emitter.module(layer, [t.type for t in layer.nodes[0].inputs])
        if made is None:
            continue
        mod = f"layers[{py_literal(keys[layer])}]"
        line = with_comment(f"{mod} = {made}", f"{spec}:{layer.span.line}", 8)
        block = Block("", [fit_line(line, 8) for line in [line, *emitter.setup(layer, mod)]])
        blocks.append(block)
    return blocks


def _weights(model: ir.Model, keys: dict) -> list[dict]:
    """Per Keras weight: its WEIGHTS row, its initializer call, and what the training part needs."""
    rows = []
    for layer in model.layers:
        emitter = EMITTERS[layer.type]
        params = {p.name: p for p in layer.params}
        for w in emitter.weights(layer):
            p = params[w.param]
            paths = tuple(f"layers.{keys[layer]}.{t}" for t in w.tensors)
            rows.append({"key": layer.name + "/" + p.name, "paths": paths, "param": p,
                         "row": Seq("(", ")", (py_literal(paths), py_literal(w.conversion),
                                              py_literal(tuple(p.shape)))),
                         "init": emitter.initial(layer, p), "init_name": p.initializer.name,
                         "trainable": p.trainable and layer.trainable})
    return rows


def _tensor_names(model: ir.Model, fwd: _Forward):
    for t in model.inputs:
        yield t, fwd.var(t)
    for node in model.nodes:
        for t in node.outputs:
            yield t, fwd.aliases.get(t) or fwd.var(t)


def _line_nodes(source: str, blocks: list[Block]) -> dict:
    """Line number (1-based) -> the IR node whose forward block wrote that line."""
    lines = source.splitlines()
    # the blocks follow the def line and its `layers = self.layers` (line numbers are 1-based)
    start = next(i for i, line in enumerate(lines) if line.startswith("    def forward(")) + 3
    out = {}
    for block in blocks:
        start += bool(block.comment)
        for line in block.lines:
            for _ in range(line.count("\n") + 1):  # a statement the formatter spread over lines
                if block.node is not None:
                    out[start] = block.node
                start += 1
    return out
