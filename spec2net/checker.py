"""AST -> checked IR for every model of a file, with every error collected."""

from __future__ import annotations

import math

from . import builder as B
from . import ir
from . import messages as M
from . import syntax as S
from .builder import ModelBuilder
from .compile_check import FIT_ARGS, check_compile, check_fit
from .diagnostics import Span, diag, suggest
from .habits import misspelt_in_uncalled_defs
from .recursion import cycles
from .registry import REGISTRIES
from .registry.types import INT_MAX, FCall, Sym
from .values import ERR, DictVal, LayerClass, LayerValue, show

CONSTANT = (int, float, str, bool, type(None), list, tuple, Sym, FCall, DictVal)


def check_file(tree: S.File, file: str, defines: dict, diags: list, builder=ModelBuilder) -> dict[str, ir.Model]:
    """Every model of ``tree``, checked; errors go to ``diags``. ``builder`` makes the evaluators
    (the language server passes a ModelBuilder subclass that records what each name evaluated to)."""
    lets = [x for x in tree.items if isinstance(x, S.Let)]
    defs: dict[str, S.Def] = {}
    models: dict[str, S.Model] = {}
    for item in tree.items:
        if isinstance(item, S.Def):
            if item.name in defs:
                diags.append(diag(item.span, M.DUPLICATE_DEF, name=item.name, other=defs[item.name].span))
            else:  # the first one counts, as the message says the second is the extra one
                defs[item.name] = item
        elif isinstance(item, S.Model):
            if item.name in models:
                diags.append(diag(item.name_span, M.DUPLICATE_MODEL, name=item.name,
                                  other=models[item.name].name_span))
            if not B.LAYER_NAME.fullmatch(item.name):  # TensorFlow's root name scope rule, as layer names
                diags.append(diag(item.name_span, M.MODEL_NAME, name=item.name))
            models[item.name] = item
    globals_ = _lets(lets, defines, defs, file, diags, builder)
    calls = {name: sorted(_called_names(d) & defs.keys()) for name, d in defs.items()}  # def -> defs it names
    recursive = _recursion(defs, calls, diags)
    for d in defs.values():
        _dead_code(d, diags)
    misspelt_in_uncalled_defs(tree.items, defs, calls, globals_, diags)
    if not models:
        diags.append(diag(Span(file, 1, 1), M.EMPTY))
    out = {}
    for name, m in models.items():
        b = builder(file, globals_, defs, recursive, diags)
        try:
            out[name] = build_model(m, b, diags)
        except B.Runaway as e:
            diags.append(diag(e.span, M.EXPANSION, what=f"model '{name}'", limit=f"{B.MAX_EXPANSION:,}", path=e.path))
    return out


def _lets(lets, defines, defs, file, diags, builder=ModelBuilder) -> dict:
    known = {x.name for x in lets}
    for name, value in defines.items():
        if name not in known:
            diags.append(diag(Span(file, 0, 0), M.NO_SUCH_LET, name=name, hint=suggest(name, known)))
        elif not _representable(value):  # from Python: defines={"n": 10**400} (a -D is read as a literal)
            diags.append(diag(Span(file, 0, 0), M.DEFINE_RANGE, name=name, value=show(value)))
            defines = {**defines, name: ERR}
        elif isinstance(value, Sym) and value.name not in known and not any(
                value.name in table for table in REGISTRIES.values()):
            defines = {**defines, name: value.name}  # -D nm=encoder: a word that names no function is a string
    env: dict = {}
    evaluator = builder(file, env, defs, set(), diags)
    for let in lets:
        if let.name in defines:
            value = defines[let.name]
            if isinstance(value, Sym) and value.name in env:  # -D units=width: the value of an earlier let
                value = env[value.name]
            env[let.name] = value
            continue
        try:
            value = evaluator.eval(let.value, env)
        except B.Runaway as e:
            diags.append(diag(e.span, M.EXPANSION, what=f"`let {let.name}`", limit=f"{B.MAX_EXPANSION:,}",
                              path=e.path))
            value = ERR
        if not isinstance(value, CONSTANT) and value is not ERR:
            diags.append(diag(let.value.span, M.LET_NOT_CONSTANT, name=let.name))
            value = ERR
        env[let.name] = value
    return env


def _representable(v) -> bool:
    """Whether every number in ``v`` is one a spec literal could be: int64, or a finite float.
    (An explicit stack: a value from Python may nest deeply.)"""
    todo = [v]
    while todo:
        x = todo.pop()
        if isinstance(x, (list, tuple)):
            todo.extend(x)
        elif isinstance(x, dict):
            todo.extend(x.values())
        elif (isinstance(x, float) and not math.isfinite(x)) or (isinstance(x, int) and abs(x) > INT_MAX):
            return False
    return True


def _recursion(defs: dict, calls: dict, diags: list) -> set:
    """Defs that call themselves, directly or through others (found statically, used or not)."""
    found = cycles(calls)
    for name, path in found.items():
        diags.append(diag(defs[name].span, M.RECURSION, name=name, path=path))
    return set(found)


def _dead_code(d: S.Def, diags: list) -> None:
    """A def ends at its `return`; statements after it would silently never run, and a def
    without one would give nothing to its callers (reported once, called or not)."""
    if not any(isinstance(stmt, S.Return) for stmt in d.body):
        diags.append(diag(d.span, M.DEF_WITHOUT_RETURN, name=d.name))
        return
    for i, stmt in enumerate(d.body[:-1]):
        if isinstance(stmt, S.Return):
            diags.append(diag(d.body[i + 1].span, M.AFTER_RETURN, name=d.name))
            return


def _called_names(d: S.Def) -> set:
    out, todo = set(), list(d.body)
    while todo:
        n = todo.pop()
        if isinstance(n, S.Name):
            out.add(n.id)
        elif isinstance(n, S.Node):
            todo.extend(v for v in S.children(n) if isinstance(v, (S.Node, list, tuple)))
        elif isinstance(n, (list, tuple)):
            todo.extend(x for x in n if isinstance(x, (S.Node, list, tuple)))
    return out


def build_model(m: S.Model, b: ModelBuilder, diags: list) -> ir.Model:
    env = dict(b.globals)
    b.cur_env = env
    outputs: list[ir.Output] = []
    sections: dict[str, S.Section] = {}
    seq_layers = []
    for stmt in m.body:
        if isinstance(stmt, S.Input):
            _input(m, stmt, b, env)
        elif isinstance(stmt, S.Output) and m.kind == "model":
            _output(stmt, b, env, outputs)
        elif isinstance(stmt, S.Section):
            if stmt.kind in sections:
                b.err(stmt.span, M.SECOND_SECTION, kind=stmt.kind)
            sections[stmt.kind] = stmt
        elif m.kind == "sequential" and isinstance(stmt, S.ExprStmt):
            seq_layers.append((b.eval(stmt.value, env), stmt.span))
        elif m.kind == "sequential":
            b.err(stmt.span, M.SEQUENTIAL_STATEMENT)
        else:
            b.statement(stmt, env)
    if m.kind == "sequential":
        _sequential(m, b, seq_layers, outputs)
    elif not any(isinstance(s, S.Output) for s in m.body):
        b.err(m.name_span, M.NO_OUTPUT, name=m.name)
    complete = len(outputs) == sum(isinstance(s, S.Output) for s in m.body) or m.kind == "sequential"
    # Only when every output was built: what feeds a failed output only would look unused.
    model = _finish(m, b, outputs, diags, warn_unused=complete)
    if "compile" in sections and model.outputs and complete:  # else its keys would only echo those errors
        model.compile = check_compile(sections["compile"], model, b, env)
    # Keras's fit() defaults where the spec has no `fit` block: filled here once, never by a backend
    model.fit = check_fit(sections["fit"], b, env, model) if "fit" in sections else {a.name: a.default for a in FIT_ARGS}
    return model


def _input(m, stmt, b, env):
    if stmt.name is None and m.kind == "model":
        if stmt.dtype and stmt.dtype not in B.DTYPES:  # `input x [4]`: the name was read as a dtype
            b.err(stmt.dtype_span, M.INPUT_COLON, name=stmt.dtype)
            env[stmt.dtype] = ERR  # uses of the name would only repeat this error
        else:
            b.err(stmt.span, M.INPUT_NAME)
        return
    name = stmt.name or "input"
    if m.kind == "sequential" and b.inputs:
        b.err(stmt.span, M.SEQUENTIAL_INPUTS)
        return
    if name in b.input_spans:
        b.err(stmt.span, M.DUPLICATE_INPUT, name=name, other=b.input_spans[name])
        return
    env[name] = b.make_input(stmt, name, env)


def _output(stmt, b, env, outputs):
    if any(o.name == stmt.name for o in outputs):
        b.err(stmt.span, M.DUPLICATE_OUTPUT, name=stmt.name)
        return
    if stmt.value is None:
        value = env.get(stmt.name)
        if value is None:
            names = [k for k, v in env.items() if isinstance(v, ir.Tensor)]
            b.err(stmt.span, M.NAME_DEFINED, name=stmt.name, hint=suggest(stmt.name, names))
            return
    else:
        value = b.eval(stmt.value, env)
        env[stmt.name] = value
    tensor = b.need_tensor(value, stmt.value.span if stmt.value else stmt.span)
    if tensor is not ERR:
        outputs.append(ir.Output(stmt.name, tensor, stmt.span))


def _sequential(m, b, seq_layers, outputs):
    values = []
    for v, span in seq_layers:
        if isinstance(v, LayerClass) and not v.as_function:
            v = b.construct(v.defn, [], [], span)
        if v is not ERR and not isinstance(v, LayerValue):
            b.not_a_layer(v, span)
            v = ERR
        values.append((v, span))
    if not b.inputs:
        first = values[0][0] if values else None
        if not isinstance(first, LayerValue):
            if first is not ERR:
                b.err(m.name_span, M.NO_INPUT, name=m.name)
            return
        s = first.structural
        dtype = first.defn.first_input_dtype
        if "input_shape" in s:
            shape = s["input_shape"][0]
        elif "input_dim" in s:
            shape = (s["input_dim"][0],)
        elif "input_length" in s:
            shape = (s["input_length"][0],)
        else:
            b.err(values[0][1], M.NO_INPUT, name=m.name)
            return
        b.inputs.append(ir.Tensor(ir.TensorType(dtype, tuple(shape)), input_name="input"))
        b.input_spans["input"] = values[0][1]
        values[0][0].structural = {}
    current = b.inputs[0]
    for v, span in values:
        if isinstance(v, LayerValue) and v.structural:
            key = next(iter(v.structural))
            b.err(v.structural[key][1], M.STRUCTURAL_LATER, key=key)
        current = b.apply(v, [(current, span)], [], span) if current is not ERR else ERR
        if isinstance(current, tuple):
            current = current[0]
    if current is not ERR:
        outputs.append(ir.Output("output", current, m.name_span))


def _finish(m, b, outputs, diags, warn_unused=True) -> ir.Model:
    used_nodes, used_inputs = set(), set()
    todo = [o.tensor for o in outputs]
    while todo:
        t = todo.pop()
        if t.producer is None:
            used_inputs.add(id(t))
        elif id(t.producer) not in used_nodes:
            used_nodes.add(id(t.producer))
            todo.extend(t.producer.inputs)
    for t in b.inputs:
        if id(t) not in used_inputs and outputs and warn_unused:
            diags.append(diag(b.input_spans[t.input_name], M.UNUSED_INPUT, name=t.input_name))
    nodes = [n for n in b.nodes if id(n) in used_nodes]
    layers = [layer for layer in b.layers if any(id(n) in used_nodes for n in layer.nodes)]
    kept = {id(layer) for layer in layers}  # a set: `layer in layers` made long models quadratic
    for layer in b.layers:
        # applied off the outputs' path, or declared and never applied (a failed call is already an error)
        if id(layer) not in kept and outputs and warn_unused and (layer.nodes or id(layer) not in b.attempted):
            diags.append(diag(layer.span, M.UNUSED_LAYER, name=layer.name))
    for layer in layers:
        layer.nodes = [n for n in layer.nodes if id(n) in used_nodes]
    seen = {name: span for name, span in b.input_spans.items()}
    for layer in layers:
        if layer.name in seen:
            what = "an input and a layer are" if layer.name in b.input_spans else "two layers are"
            diags.append(diag(layer.span, M.DUPLICATE_NAME, what=what, name=layer.name, model=m.name,
                              other=seen[layer.name]))
        seen.setdefault(layer.name, layer.span)
    return ir.Model(m.name, m.kind, b.file, list(b.inputs), outputs, layers, nodes, span=m.name_span)
