"""A Graph -> spec text as a person writes it (LANGUAGE.md, examples/): ``sequential`` for a
chain, ``model`` otherwise; 4-space indents; ``let``s for integer sizes used more than once; a
layer's name only where it is not the automatic one (section 9); a shared layer declared once.
"""

from __future__ import annotations

import re
from collections import Counter

from ..registry.types import Int
from .graph import Graph
from .layers import LayerCall, call_text, n_outputs
from .values import Let, Refused

KEYWORDS = {"model", "sequential", "def", "let", "input", "output", "return", "compile", "fit", "true", "false",
            "none"}
IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# the name a wrapper's inner layer has in Keras, from the spec's: Bidirectional's forward copy
INNER_PREFIX = {("Bidirectional", "layer"): "forward_"}


def _builtin_names() -> set:
    """Names a binding would shadow: merge functions (``average``), layers, and every function's
    name and alias (a tensor named ``softmax`` would hide ``activation=softmax``)."""
    from ..registry import LAYERS, REGISTRIES

    names = {d.auto_name for d in LAYERS.values() if d.merge} | set(LAYERS)
    return names | {k for table in REGISTRIES.values() for k in table}


class Namer:
    """Unique identifiers: ``Namer().take("dense")`` -> ``dense``, then ``dense_2``."""

    def __init__(self, taken=()):
        self.taken = set(KEYWORDS) | _builtin_names() | set(taken)

    def take(self, base: str) -> str:
        base = re.sub(r"\W", "_", base) or "t"
        if base[0].isdigit():
            base = "t" + base
        name, i = base, 2
        while name in self.taken:
            name, i = f"{base}_{i}", i + 1
        self.taken.add(name)
        return name


def lets_of(graph: Graph) -> dict:
    """{value: let name} for the integer sizes the layers use more than once (``units`` of two
    LSTM(128)s), named after the argument that uses the value first."""
    seen, names = Counter(), {}

    def visit(call: LayerCall):
        for a in call.defn.args:
            v = call.args.get(a.name)
            if isinstance(a.type, Int) and type(v) is int and v > 1:
                seen[v] += 1
                names.setdefault(v, a.name)
        for sub in call.inner.values():
            visit(sub)

    for call in graph.layers.values():
        visit(call)
    for inp in graph.inputs:
        for d in inp.shape:
            if d in names:
                seen[d] += 1
    namer = Namer({i.name for i in graph.inputs} | {o for o, _ in graph.outputs})
    return {v: namer.take(names[v]) for v in sorted(names, key=list(names).index) if seen[v] > 1}


def with_lets(call: LayerCall, lets: dict) -> LayerCall:
    """The call with its let-named integer arguments replaced by ``Let``s."""
    args = {k: (Let(lets[v]) if type(v) is int and k in _int_args(call) and v in lets else v)
            for k, v in call.args.items()}
    inner = {k: with_lets(v, lets) for k, v in call.inner.items()}
    return LayerCall(call.type, call.name, args, call.trainable, inner)


def _int_args(call: LayerCall) -> set:
    return {a.name for a in call.defn.args if isinstance(a.type, Int)}


def spec_text(graph: Graph, compile_lines: list[str], explicit: dict, header: str) -> tuple[str, list]:
    """(the spec, the Keras names of the top-level layers in the spec's order). ``explicit``:
    Keras layer name -> True where its name must be written although it looks automatic."""
    lets = lets_of(graph)
    lines = [header] + [f"let {name} = {v}" for v, name in lets.items()]
    if lets:
        lines.append("")
    namer = Namer(set(lets.values()))
    auto = Counter()
    order = []

    def name_arg(call: LayerCall, keras_name: str) -> str | None:
        stem = call.defn.auto_name
        n = auto[stem]
        guess = stem if n == 0 else f"{stem}_{n}"
        if keras_name == guess and not explicit.get(keras_name):
            auto[stem] += 1
            return None
        return keras_name

    def call_of(call: LayerCall) -> str:
        inner_names = {}
        for key, sub in call.inner.items():
            prefix = INNER_PREFIX.get((call.type, key), "")
            inner_names[key] = name_arg(sub, sub.name.removeprefix(prefix) if sub.name.startswith(prefix)
                                        else sub.name)
        own = name_arg(call, call.name)
        return call_text(with_lets(call, lets), own, inner_names)

    def dims(shape) -> str:
        return "[" + ", ".join("?" if d is None else lets.get(d, str(d)) for d in shape) + "]"

    body = []
    if graph.sequential:
        inp = graph.inputs[0]
        body.append(f"input {inp.dtype}{dims(inp.shape)}")
        for c in graph.calls:
            order.append(c.layer)
            body.append(call_of(graph.layers[c.layer]))
        kind = "sequential"
    else:
        kind = "model"
        body += _functional(graph, namer, call_of, dims, order)
    lines.append(f"{kind} {_model_name(graph.name)} {{")
    lines += ["    " + b for b in body]
    if compile_lines:
        lines += [""] + compile_lines
    lines.append("}")
    return "\n".join(lines) + "\n", order


def _model_name(name: str) -> str:
    """Keras's model name as an identifier: its automatic ``sequential`` is a keyword here."""
    name = re.sub(r"\W", "_", name) or "model"
    name = "m_" + name if name[0].isdigit() else name
    return name + "_model" if name in KEYWORDS else name


def _ident(name: str, what: str) -> str:
    if not IDENT.match(name) or name in KEYWORDS:
        raise Refused(f"{what} name {name!r} is not an identifier the language takes")
    return name


def _functional(graph: Graph, namer: Namer, call_of, dims, order) -> list:
    body = []
    for inp in graph.inputs:
        namer.taken.add(_ident(inp.name, "input"))
        body.append(f"input {inp.name}: {inp.dtype}{dims(inp.shape)}")
    var = {(i.name, 0, 0): i.name for i in graph.inputs}
    uses = Counter(t for c in graph.calls for t in c.inputs + c.states)
    out_of = {}
    for name, t in graph.outputs:
        namer.taken.add(_ident(name, "output"))  # an output's tensor takes its name; nothing else does
        uses[t] += 1
        out_of.setdefault(t, name)
    calls_per_layer = Counter(c.layer for c in graph.calls)
    shared = {}
    pending = list(graph.outputs)  # written in Keras's order, each as soon as it and those before it can be

    def flush():
        while pending and pending[0][1] in var:
            name, t = pending.pop(0)
            body.append(f"output {name}" if var[t] == name else f"output {name} = {var[t]}")

    chain = []  # the calls of a `->` chain not yet written: `x -> Dense(8) -> Dropout(0.5)`
    for i_call, c in enumerate(graph.calls):
        call = graph.layers[c.layer]
        if calls_per_layer[c.layer] > 1 and c.layer not in shared:
            shared[c.layer] = namer.take(c.layer)
            order.append(c.layer)
            body.append(f"{shared[c.layer]} = {call_of(call)}")
        if c.layer in shared:
            head = shared[c.layer]
        else:
            order.append(c.layer)
            head = call_of(call)
        tensors = [(c.layer, c.index, i) for i in range(n_outputs(call))]
        t0 = tensors[0]
        if _links(graph, i_call, {k for k, n in calls_per_layer.items() if n > 1}, uses, out_of, tensors):
            chain.append((c, head))  # its one result feeds only the next call, the next link
            continue
        if chain and c.inputs == [(chain[-1][0].layer, chain[-1][0].index, 0)]:
            expr = _chain_expr(var[chain[0][0].inputs[0]], chain + [(c, head)], namer, body)
            chain = []
        else:
            ins = [var[t] for t in c.inputs]
            arg = f"[{', '.join(ins)}]" if call.defn.merge else ", ".join(ins)
            states = [var[t] for t in c.states]
            if states:
                arg += f", initial_state=[{', '.join(states)}]" if len(states) > 1 else f", initial_state={states[0]}"
            expr = f"{call.defn.auto_name}({arg}{_merge_args(head)})" if call.defn.merge else f"{head}({arg})"
        if len(tensors) == 1 and uses[t0] == 1 and pending and pending[0] == (out_of.get(t0), t0):
            pending.pop(0)
            body.append(f"output {out_of[t0]} = {expr}")
            var[t0] = out_of[t0]
            flush()
            continue
        names = []
        for i, t in enumerate(tensors):
            base = f"{shared[c.layer]}_out" if c.layer in shared else c.layer
            names.append(out_of[t] if t in out_of else namer.take(base if i == 0 else f"{base}_{_state(call, i)}"))
            var[t] = names[-1]
        body.append(f"{', '.join(names)} = {expr}")
        flush()
    flush()
    return body


WIDTH = 100  # a chain longer than this is cut into statements, as a person would


def _chain_expr(source: str, links: list, namer: Namer, body: list) -> str:
    """``source -> A -> B``; where the line would pass WIDTH, the part so far is bound to a name
    (its last layer's) in a statement of its own, appended to ``body``."""
    cur_src, cur, prev = source, [], None
    for c, head in links:
        if prev is not None and len(f"    {cur_src} = {cur_src} -> " + " -> ".join([*cur, head])) > WIDTH:
            name = namer.take(prev.layer)
            body.append(f"{name} = {_links_text(cur_src, cur)}")
            cur_src, cur = name, []
        cur.append(head)
        prev = c
    return _links_text(cur_src, cur)


def _links_text(source: str, heads: list) -> str:
    """``x -> A -> B``, or ``A(x)`` for one layer."""
    return f"{heads[0]}({source})" if len(heads) == 1 else f"{source} -> " + " -> ".join(heads)


def _links(graph: Graph, i: int, shared: set, uses: Counter, out_of: dict, tensors: list) -> bool:
    """Whether call ``i`` is a link of a ``->`` chain: a layer called once, on one tensor, whose one
    result only the next call reads, as that call's one input (no merge, no initial_state)."""
    c, nxt = graph.calls[i], graph.calls[i + 1] if i + 1 < len(graph.calls) else None
    if nxt is None or len(tensors) != 1 or c.layer in shared or nxt.layer in shared or tensors[0] in out_of:
        return False
    one_in = len(c.inputs) == 1 and not c.states and not graph.layers[c.layer].defn.merge
    takes = nxt.inputs == [tensors[0]] and not nxt.states and not graph.layers[nxt.layer].defn.merge
    return one_in and takes and uses[tensors[0]] == 1


def _state(call: LayerCall, i: int) -> str:
    names = getattr(call.defn, "state_names", ())
    return names[i - 1] if i - 1 < len(names) and not call.inner else str(i)


def _merge_args(head: str) -> str:
    """A merge's own arguments, from its call text ``Concatenate(axis=1, name="cat")``: ``, axis=1, ...``."""
    inside = head[head.index("(") + 1:-1]
    return f", {inside}" if inside else ""
