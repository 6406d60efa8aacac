"""ir.Model -> a standalone Keras 3 module, as a ``codegen.GeneratedModule``.

Python decides what each statement says (names, constructors, arguments) and lays it out with
``spec2net.pyformat``; the template ``module.py.j2`` holds the module's layout and the fixed
weights-file code. As torch.fx's codegen does, every tensor is named once by a ``codegen.Namer``
(the spec's own binding names first), and every line of ``build_model`` is mapped back to the IR
node that made it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources

import jinja2

from spec2net import ir
from spec2net.codegen import GeneratedModule, Namer, doc_text, header, py_literal
from spec2net.pyformat import CallExpr, Seq, assign, render
from spec2net.registry import LAYERS

from .compile import compile_call, fit_code
from .emitters import emitter
from .speclines import SpecLines

# module-level names of the generated file, which no spec name may shadow
RESERVED = frozenset({"keras", "np", "layers", "build_model", "load_weights", "save_weights",
                      "compile_model", "FIT", "_read_arrays", "_safetensors", "_weight_key", "model"})
INDENT = 4
_BODY = "\x00body\x00"  # where build_model's statements go, found after the template is rendered


@dataclass
class Statement:
    code: str  # at the body's indentation, continuation lines included
    comments: list = field(default_factory=list)
    node: ir.Node | None = None  # the IR node its lines come from, for GeneratedModule.line_nodes


def build_source(model: ir.Model) -> GeneratedModule:
    """The generated module for ``model``: ``build_source(spec2net.load("mlp.net").ir).source``."""
    spec = SpecLines(model.file)
    namer = Namer(RESERVED)
    statements = reserve_statements(model) + input_statements(model, namer) + layer_statements(model, namer, spec)
    statements += model_statements(model, namer, spec, {c for s in statements for c in s.comments})
    many = len(model.outputs) > 1
    context = {
        "header": header(model, "keras"),
        "outputs_doc": doc_text("``build_model().predict(x)`` returns " + (
            "a list in the spec's output order: " + ", ".join(o.name for o in model.outputs) if many
            else f"a dict keyed by the spec's output name, {model.outputs[0].name}") + "."),
        "body": _BODY,
        "compile_code": "", "compile_comments": [], "compile_example": "", "fit_code": "", "fit_comment": "",
    }
    if model.compile is not None:
        context["compile_code"] = render(compile_call(model.compile), INDENT)
        context["compile_comments"] = [spec.comment(model.compile.span)]
        context["compile_example"] = ("compile_model(build_model()).fit(x, y, **FIT)" if model.fit is not None
                                      else "compile_model(build_model()).fit(x, y, epochs=10)")
    if model.fit is not None:
        context["fit_code"] = fit_code(model.fit)
        context["fit_comment"] = "The spec's fit block (Keras's defaults where it has none), for model.fit(x, y, **FIT)."
    lines = _template().render(context).split("\n")
    start = lines.index(_BODY)
    body, line_nodes = [], {}
    for s in statements:
        body += ["    # " + c for c in s.comments]
        code = ("    " + s.code).split("\n")
        if s.node is not None:
            line_nodes.update({start + len(body) + k + 1: s.node for k in range(len(code))})
        body += code
    source = "\n".join(lines[:start] + body + lines[start + 1:])
    tensors = [*model.inputs, *(t for node in model.nodes for t in node.outputs)]
    return GeneratedModule(source, {id(t): namer.name(t, "t") for t in tensors}, line_nodes)  # all named above


def mask_op_names(model: ir.Model) -> set:
    """The operations Keras's compute_mask methods add to the model's graph (each emitter's mask_ops)."""
    return {op for node in model.nodes for op in emitter(node.layer.type).mask_op_names(node)}


def reserve_statements(model: ir.Model) -> list:
    """Keras names those mask operations automatically (``concatenate``, ``concatenate_1``, ...),
    skipping only the names it handed out itself, so a layer or input named like one of them
    (Concatenate's own automatic name is ``concatenate``) makes Keras refuse the model: "The name
    "concatenate" is used 2 times in the model". Counting those names as handed out avoids it."""
    ops, counts = mask_op_names(model), {}
    for name in [t.input_name for t in model.inputs] + [layer.name for layer in model.layers]:
        stem, _, k = name.rpartition("_")
        stem, k = (stem, int(k) + 1) if stem and k.isdigit() else (name, 1)
        if stem in ops:
            counts[stem] = max(counts.get(stem, 0), k)
    if not counts:
        return []
    head = "for name, count in "
    pairs = Seq("(", ")", tuple(py_literal(pair) for pair in sorted(counts.items())))
    code = (head + render(pairs, INDENT, len(head), 1) + f":\n{' ' * 2 * INDENT}"
            f"for _ in range(count):\n{' ' * 3 * INDENT}keras.backend.get_uid(name)")
    return [Statement(code, ["Keras names the operations computing masks after their functions, skipping only the",
                             "names it gave out itself: count the names of this model's layers as given out"])]


def _template() -> jinja2.Template:
    text = resources.files(__package__).joinpath("module.py.j2").read_text("utf-8")
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True, autoescape=False)
    return env.from_string(text)


def declared_apart(layer: ir.Layer) -> bool:
    """A layer built in its own statement: shared, or declared on another line than its call."""
    return len(layer.nodes) > 1 or layer.span.line != layer.nodes[0].span.line


def tensor_candidate(model: ir.Model, tensor: ir.Tensor, namer: Namer, suffix: str) -> str:
    """The name a tensor asks the namer for: the spec's binding (``seq``), else the output it is
    (``topic``), else its layer's name with the state's suffix (``lstm_h``), after the layer's
    input for a shared layer's call (``encoder_left``)."""
    if tensor.name:
        return tensor.name
    outputs = [o.name for o in model.outputs if o.tensor is tensor]
    if outputs:
        return outputs[0]
    node = tensor.producer
    base = node.layer.name
    if declared_apart(node.layer):
        base = f"{namer.name(node.layer, base)}_{namer.name(node.inputs[0], 'x')}"
    return f"{base}_{suffix}" if suffix else base


def input_statements(model: ir.Model, namer: Namer) -> list[Statement]:
    out = []
    for t in model.inputs:
        call = CallExpr("keras.Input", (("shape", py_literal(t.type.shape)), ("dtype", py_literal(t.type.dtype)),
                                        ("name", py_literal(t.input_name))))
        out.append(Statement(assign(namer.name(t, t.input_name), call, INDENT)))
    return out


def layer_statements(model: ir.Model, namer: Namer, spec: SpecLines) -> list[Statement]:
    """One statement per layer call (two for a layer declared apart), each under the spec line
    it comes from; a line that made several statements (a chain) is quoted once."""
    out, built = [], set()
    for node in model.nodes:
        layer = node.layer
        items = [namer.name(t, "x") for t in node.inputs]
        arg = "[" + ", ".join(items) + "]" if LAYERS[layer.type].merge else items[0]
        if node.initial_states:  # Keras's call keyword, as a user writes it
            arg += ", initial_state=[" + ", ".join(items[-node.initial_states:]) + "]"
        constructor = emitter(layer.type).constructor(layer)
        if declared_apart(layer) and layer not in built:
            built.add(layer)
            code = assign(namer.name(layer, layer.name), constructor, INDENT)
            out.append(Statement(code, [spec.comment(layer.span)], layer.nodes[0]))
        suffixes = emitter(layer.type).output_suffixes(len(node.outputs))
        targets = ", ".join(namer.name(t, tensor_candidate(model, t, namer, s)) for t, s in zip(node.outputs, suffixes))
        if declared_apart(layer):
            code = f"{targets} = {namer.name(layer, layer.name)}({arg})"
        else:
            code = assign(targets, constructor, INDENT, f"({arg})")
        out.append(Statement(code, [spec.comment(node.span)], node))
    quoted = [s.comments for s in out]
    for before, statement in zip(quoted, out[1:]):
        if statement.comments == before:
            statement.comments = []
    return out


def model_statements(model: ir.Model, namer: Namer, spec: SpecLines, said: set) -> list[Statement]:
    """``keras.Model(...)``: a dict of the one output, keyed by its name; several outputs as a list
    in the spec's order, whose ``output_names`` are set to the spec's names. Keras flattens a dict
    of outputs in sorted key order, so list targets given in the spec's order would meet the wrong
    outputs; a list keeps the order, and ``output_names`` (which Keras takes from the output
    layers' names) keys compile()'s losses and dict targets by the spec's names."""
    ins = [namer.name(t, t.input_name) for t in model.inputs]
    inputs = ins[0] if len(ins) == 1 else Seq("[", "]", tuple(ins))
    outs = [namer.name(o.tensor, o.name) for o in model.outputs]
    # an output declared inline (`output y = Dense(1)(h)`) is already quoted above its layer
    comments = [c for c in dict.fromkeys(spec.comment(o.span) for o in model.outputs) if c not in said]
    if len(outs) == 1:
        outputs = Seq("{", "}", ((py_literal(model.outputs[0].name), outs[0]),))
        call = CallExpr("keras.Model", (("inputs", inputs), ("outputs", outputs), ("name", py_literal(model.name))))
        return [Statement("return " + render(call, INDENT, len("return ")), comments)]
    call = CallExpr("keras.Model", (("inputs", inputs), ("outputs", Seq("[", "]", tuple(outs))),
                                    ("name", py_literal(model.name))))
    names = Seq("[", "]", tuple(py_literal(o.name) for o in model.outputs))
    return [Statement(assign("model", call, INDENT), comments),
            Statement(assign("model.output_names", names, INDENT),
                      ["the spec's output names, not the output layers' ones, key the losses and dict targets"]),
            Statement("return model")]
