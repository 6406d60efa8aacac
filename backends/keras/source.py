"""ir.Model -> the source of a standalone Keras 3 module.

Python decides what each statement says (names, constructors, arguments); the template
``module.py.j2`` holds the module's layout and the fixed weights-file code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path, PurePath

import jinja2

from spec2net import ir
from spec2net.codegen import comment_text, header, py_literal, safe_identifier
from spec2net.pyformat import WIDTH, CallExpr, Seq, render
from spec2net.registry import LAYERS

from .emitters import emitter
from .values import value_source

# module-level names of the generated file, which no spec name may shadow
RESERVED = frozenset({"keras", "np", "layers", "build_model", "load_weights", "save_weights",
                      "compile_model", "FIT", "_read_arrays", "_safetensors"})
INDENT = 4


@dataclass
class Statement:
    code: str
    comments: list = field(default_factory=list)


def build_source(model: ir.Model) -> str:
    """The generated module for ``model``: ``build_source(spec2net.load("mlp.net").ir)``."""
    spec = SpecLines(model.file)
    names = Names(model)
    statements = reserve_statements(model) + input_statements(model, names) + layer_statements(model, names, spec)
    said = {c for s in statements for c in s.comments}
    context = {
        "header": header(model, "keras"),
        "statements": statements,
        # an output declared inline (`output y = Dense(1)(h)`) is already quoted above its layer
        "output_comments": [c for c in dict.fromkeys(spec.comment(o.span) for o in model.outputs) if c not in said],
        "model_code": "return " + render(model_call(model, names), INDENT, len("return ")),
        "compile_code": "", "compile_comments": [], "compile_example": "", "fit_code": "", "fit_comment": "",
    }
    if model.compile is not None:
        context["compile_code"] = render(compile_call(model.compile), INDENT)
        context["compile_comments"] = [spec.comment(model.compile.span)]
        context["compile_example"] = ("compile_model(build_model()).fit(x, y, **FIT)" if model.fit is not None
                                      else "compile_model(build_model()).fit(x, y, epochs=10)")
    if model.fit is not None:
        fit = Seq("{", "}", tuple((py_literal(k), py_literal(v)) for k, v in model.fit.items()))
        context["fit_code"] = "FIT = " + render(fit, 0, len("FIT = "))
        context["fit_comment"] = "The spec's fit block, for model.fit(x, y, **FIT)."
    return _template().render(context)


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
    code = (f"for name, count in {py_literal(tuple(sorted(counts.items())))}:\n{' ' * 2 * INDENT}"
            f"for _ in range(count):\n{' ' * 3 * INDENT}keras.backend.get_uid(name)")
    return [Statement(code, ["Keras names the operations computing masks after their functions, skipping only the",
                             "names it gave out itself: count the names of this model's layers as given out"])]


def _template() -> jinja2.Template:
    text = resources.files(__package__).joinpath("module.py.j2").read_text("utf-8")
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True, autoescape=False)
    return env.from_string(text)


class Names:
    """Python identifiers for the model's tensors and layer objects, unique and safe.

    A layer called once is built and applied in one statement, so its output takes the layer's
    name (``dense_1 = layers.Dense(...)(dense)``); a shared layer is bound to its name and each
    call's output is named after the layer and its input (``encoder_left = encoder(left)``).
    """

    def __init__(self, model: ir.Model):
        self.taken = set(RESERVED)
        self.tensor = {t: safe_identifier(t.input_name, self.taken) for t in model.inputs}
        self.layer = {layer: safe_identifier(layer.name, self.taken) for layer in model.layers}
        for node in model.nodes:
            own = self.layer[node.layer]
            base = f"{own}_{self.tensor[node.inputs[0]]}" if declared_apart(node.layer) else own
            suffixes = emitter(node.layer.type).output_suffixes(len(node.outputs))
            for tensor, suffix in zip(node.outputs, suffixes):
                if base == own and not suffix:
                    self.tensor[tensor] = own  # reserved above with the layer
                else:
                    self.tensor[tensor] = safe_identifier(f"{base}_{suffix}" if suffix else base, self.taken)


def declared_apart(layer: ir.Layer) -> bool:
    """A layer built in its own statement: shared, or declared on another line than its call."""
    return len(layer.nodes) > 1 or layer.span.line != layer.nodes[0].span.line


def input_statements(model: ir.Model, names: Names) -> list[Statement]:
    out = []
    for t in model.inputs:
        call = CallExpr("keras.Input", (("shape", py_literal(t.type.shape)), ("dtype", py_literal(t.type.dtype)),
                                    ("name", py_literal(t.input_name))))
        target = f"{names.tensor[t]} = "
        out.append(Statement(target + render(call, INDENT, len(target))))
    return out


def layer_statements(model: ir.Model, names: Names, spec: SpecLines) -> list[Statement]:
    """One statement per layer call (two for a layer declared apart), each under the spec line
    it comes from; a line that made several statements (a chain) is quoted once."""
    out, built = [], set()
    for node in model.nodes:
        layer = node.layer
        items = [names.tensor[t] for t in node.inputs]
        arg = "[" + ", ".join(items) + "]" if LAYERS[layer.type].merge else items[0]
        targets = ", ".join(names.tensor[t] for t in node.outputs) + " = "
        constructor = emitter(layer.type).constructor(layer)
        if not declared_apart(layer):
            code = targets + render(constructor, INDENT, len(targets), len(arg) + 2) + f"({arg})"
            out.append(Statement(code, [spec.comment(node.span)]))
            continue
        if layer not in built:
            built.add(layer)
            own = f"{names.layer[layer]} = "
            out.append(Statement(own + render(constructor, INDENT, len(own)), [spec.comment(layer.span)]))
        out.append(Statement(f"{targets}{names.layer[layer]}({arg})", [spec.comment(node.span)]))
    quoted = [s.comments for s in out]
    for before, statement in zip(quoted, out[1:]):
        if statement.comments == before:
            statement.comments = []
    return out


def model_call(model: ir.Model, names: Names) -> CallExpr:
    ins = [names.tensor[t] for t in model.inputs]
    inputs = ins[0] if len(ins) == 1 else Seq("[", "]", tuple(ins))
    # a dict keyed by the spec's output names: predict() returns it, and compile()'s losses,
    # loss weights and metrics and fit()'s targets are keyed the same way
    outputs = Seq("{", "}", tuple((py_literal(o.name), names.tensor[o.tensor]) for o in model.outputs))
    return CallExpr("keras.Model", (("inputs", inputs), ("outputs", outputs), ("name", py_literal(model.name))))


def compile_call(c: ir.Compile) -> CallExpr:
    def per_output(values):
        return Seq("{", "}", tuple((py_literal(name), v) for name, v in values.items()))

    metrics = Seq("[", "]", tuple(value_source(m) for m in c.metrics))
    return CallExpr("model.compile", (
        ("optimizer", value_source(c.optimizer)),
        ("loss", per_output({k: value_source(v) for k, v in c.loss.items()})),
        ("loss_weights", per_output({k: py_literal(float(v)) for k, v in c.loss_weights.items()})),
        # the spec's metric list applies to every output, as Keras does with a list
        ("metrics", per_output({k: metrics for k in c.loss})),
    ))


class SpecLines:
    """The spec's source lines, for the comment above each statement (``mlp.net:5: Dense(8)``)."""

    def __init__(self, file: str):
        self.name = PurePath(str(file)).name
        try:
            # split on "\n" only, as the parser counts lines ("\r" is dropped by comment_text)
            self.lines = Path(file).read_text("utf-8-sig").split("\n")
        except (OSError, UnicodeDecodeError):  # a spec given as text (loads) has no file to quote
            self.lines = []

    def comment(self, span) -> str:
        where = comment_text(f"{self.name}:{span.line}")
        text = comment_text(self.lines[span.line - 1].strip()) if 0 < span.line <= len(self.lines) else ""
        line = f"{where}: {text}" if text else where
        room = WIDTH - INDENT - 2
        return line if len(line) <= room else line[: room - 3] + "..."
