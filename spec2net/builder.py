"""Expands one model body (with its `def` calls and `let` constants) into the IR.

Evaluation follows Python's order, as a hand-written Keras script would:
a call's callee is built before its arguments, so automatic layer names
come out exactly as Keras numbers them. The evaluator is written for
``trampoline.run``: a step that needs a sub-expression's value yields it, so
no nesting depth, however deep, touches Python's recursion limit.
"""

from __future__ import annotations

import re

from . import ir
from . import messages as M
from .args import Binder
from .arith import Arithmetic
from .diagnostics import diag, from_problem, suggest
from .habits import KERAS_CALLS, KerasHabits
from .registry import LAYERS, REGISTRIES, ShapeError
from .registry.types import INT_MAX, Bool, FCall, Int, Shape, Str, Sym
from .statements import DTYPES, Statements
from .trampoline import run
from .values import ERR, QMARK, DefValue, DictVal, LayerClass, LayerValue, show

__all__ = ["DTYPES", "LAYER_NAME", "MAX_EXPANSION", "MERGE_FUNCS", "ModelBuilder", "Runaway"]

# TensorFlow runs a layer only if its name is a valid scope name (and '/' would split the
# weights file's LAYER/PARAM keys), so a name must suit every backend.
LAYER_NAME = re.compile(r"[A-Za-z0-9.][A-Za-z0-9_.\-]*")
MERGE_FUNCS = {d.auto_name: d for d in set(LAYERS.values()) if d.merge}
STRUCTURAL = ("input_shape", "input_dim", "input_length")
UNIVERSAL = ("name", "trainable") + STRUCTURAL
# Layers plus def calls one model may expand to. A 10,000-layer model takes about a second;
# nested defs that call each other twice can ask for 2**40, which would run for days.
MAX_EXPANSION = 100_000


class Runaway(Exception):
    """The model expands past MAX_EXPANSION; raised out of the builder, reported once."""

    def __init__(self, span, path):
        super().__init__(path)
        self.span, self.path = span, path


class ModelBuilder(Statements, Arithmetic, KerasHabits):
    def __init__(self, file: str, globals_: dict, defs: dict, recursive: set, diags: list):
        self.file, self.globals, self.defs, self.recursive = file, globals_, defs, recursive
        self.diags = diags
        self.binder = Binder(diags, lambda: self.cur_env)
        self.counts: dict[str, int] = {}
        self.layers: list[ir.Layer] = []
        self.nodes: list[ir.Node] = []
        self.attempted: set[int] = set()  # layers applied at least once, even if that call failed
        self.wrapped: dict[int, tuple] = {}  # id of a layer a wrapper took -> (the wrapper's name, the layer)
        self.inputs: list[ir.Tensor] = []
        self.input_spans: dict[str, object] = {}
        self.stack: list[str] = []
        self.call_spans: list = []  # where each def on the stack was called from
        self.steps = 0  # layers built plus def calls, against MAX_EXPANSION
        self.cur_env: dict = {}  # the innermost scope, for "did you mean" hints

    def step(self, span):
        self.steps += 1
        if self.steps > MAX_EXPANSION:
            raise Runaway(self.call_spans[0] if self.call_spans else span, " -> ".join(self.stack) or "the model")

    def err(self, span, message, **fields):
        self.diags.append(diag(span, message, **fields))
        return ERR

    # -- expressions ------------------------------------------------------------
    def eval(self, e, env):
        """The value of expression ``e`` in ``env``."""
        return run(self._eval(e, env))

    def _eval(self, e, env):
        """A value (names, literals) or a generator for ``run`` (everything that nests)."""
        return getattr(self, "eval_" + type(e).__name__)(e, env)

    def eval_Name(self, e, env):
        if e.id in env:
            return env[e.id]
        if e.id in LAYERS:
            return LayerClass(LAYERS[e.id])
        if e.id in MERGE_FUNCS:
            return LayerClass(MERGE_FUNCS[e.id], as_function=True)
        if e.id in self.defs:
            return DefValue(self.defs[e.id])
        return Sym(e.id, e.span)

    def eval_Const(self, e, env):
        return e.value

    def eval_Unknown(self, e, env):
        return QMARK

    def eval_ListExpr(self, e, env):
        out = []
        for x in e.items:
            out.append((yield self._eval(x, env)))
        return out

    def eval_TupleExpr(self, e, env):
        return tuple((yield from self.eval_ListExpr(e, env)))  # one level of delegation, not nested

    def eval_DictExpr(self, e, env):
        out = DictVal()
        out.spans = {}
        for key, kspan, value in e.pairs:
            out[key] = yield self._eval(value, env)
            out.spans[key] = kspan
        return out

    def eval_Chain(self, e, env):
        value = yield self._eval(e.stages[0], env)
        for stage in e.stages[1:]:
            fn = yield self._eval(stage, env)
            value = yield self.apply_value(fn, [(value, e.stages[0].span)], [], stage.span, env, chained=True)
        return value

    def eval_Call(self, e, env):
        fn = yield self._eval(e.func, env)
        pos, kw = [], []
        for a in e.args:
            pos.append(((yield self._eval(a, env)), a.span))
        for n, ns, v in e.kwargs:
            kw.append((n, ns, (yield self._eval(v, env)), v.span))
        return (yield self.apply_value(fn, pos, kw, e.span, env))

    def fail_inputs(self, pos):
        """A broken layer or callee: still report undefined names among its inputs."""
        for value, vspan in pos:
            for v in value if isinstance(value, (list, tuple)) else [value]:
                if isinstance(v, Sym):
                    self.need_tensor(v, vspan)
        return ERR

    def apply_value(self, fn, pos, kw, span, env, chained=False):
        """The result of calling ``fn``: a value, or for a def call a generator for ``run``."""
        if fn is ERR:
            return self.fail_inputs(pos)
        if isinstance(fn, LayerClass):
            if fn.as_function:
                return self.merge_call(fn, pos, kw, span)
            layer = self.construct(fn.defn, [] if chained else pos, [] if chained else kw, span)
            return self.apply(layer, pos, [], span) if chained else layer
        if isinstance(fn, LayerValue):
            return self.apply(fn, pos, kw, span)
        if isinstance(fn, DefValue):
            return self.call_def(fn.node, pos, kw, span)
        if isinstance(fn, Sym):
            if fn.name in KERAS_CALLS:
                return self.keras_only(fn.name, kw, span)
            if chained:
                return self.err(span, M.UNKNOWN_LAYER, name=fn.name, hint=self.hint(fn.name, callables=True))
            return FCall(fn.name, tuple(pos), tuple(kw), span)
        if isinstance(fn, FCall):  # Dens(8)(x): the name is no layer, so it was read as a function call
            self.fail_inputs(pos)
            return self.err(fn.span or span, M.UNKNOWN_LAYER, name=fn.name, hint=self.hint(fn.name, callables=True))
        what = "a tensor" if isinstance(fn, ir.Tensor) else show(fn)
        return self.err(span, M.NOT_CALLABLE, what=what)

    def hint(self, name, env=None, callables=False):
        pool = list(env or ())
        if callables:
            pool += [*LAYERS, *MERGE_FUNCS, *self.defs]
        return suggest(name, pool)

    # -- layers ---------------------------------------------------------------------
    def construct(self, defn, pos, kw, span):
        own = {a.name for a in defn.args}  # Embedding's input_dim is its own argument
        universal = tuple(k for k in UNIVERSAL if k not in own)
        bound = self.binder.bind(defn.name, defn.args, pos, kw, span, extra=universal)
        if bound is ERR:
            return ERR
        extra = {k: bound.pop(k) for k in universal if k in bound}
        trainable = True
        if "name" not in extra:
            name = self.auto_name(defn.auto_name)
        else:
            # As in Keras, a layer named by hand does not advance the automatic counter.
            name = self.binder.value(defn.name, "name", Str(), *extra["name"])
            if name is not ERR and not LAYER_NAME.fullmatch(name):
                return self.err(extra["name"][1], M.ARG_RANGE, owner=defn.name, name="name", value=show(name),
                                expected=M.LAYER_NAME_RULE)
        if "trainable" in extra:
            trainable = self.binder.value(defn.name, "trainable", Bool(), *extra["trainable"])
        structural = {}
        for key, typ in (("input_shape", Shape()), ("input_dim", Int(1)), ("input_length", Int(1))):
            if key in extra:
                structural[key] = (self.binder.value(defn.name, key, typ, *extra[key]), extra[key][1])
        if ERR in (name, trainable) or any(v is ERR for v, _ in structural.values()):
            return ERR
        if defn.layer_args:
            bound = self.take_inner(defn, bound, name, span)
            if bound is ERR:
                return ERR
        self.step(span)
        layer = ir.Layer(defn.name, name, bound, span, trainable)
        self.layers.append(layer)
        return LayerValue(layer, defn, structural)

    def auto_name(self, stem):
        n = self.counts.get(stem, 0)
        self.counts[stem] = n + 1
        return stem if n == 0 else f"{stem}_{n}"

    def merge_call(self, fn, pos, kw, span):
        if not pos:
            return self.err(span, M.MISSING_ARG, owner=fn.defn.auto_name, name="inputs")
        lv = self.construct(fn.defn, pos[1:], kw, span)
        return self.apply(lv, pos[:1], [], span)

    def apply(self, lv, pos, kw, span):
        if lv is ERR:
            return self.fail_inputs(pos)
        defn, layer = lv.defn, lv.layer
        if id(layer) in self.wrapped:
            self.fail_inputs(pos)
            return self.err(span, M.WRAPPED_APPLIED, name=layer.name, wrapper=self.wrapped[id(layer)][0])
        self.attempted.add(id(layer))
        if len(pos) != 1 or (kw and not defn.call_args):
            return self.err(span, M.APPLIED_TO_ONE, n=len(pos) + len(kw))
        states = self.call_states(defn, layer, kw) if kw else []
        if states is ERR:
            return self.fail_inputs(pos)
        value, vspan = pos[0]
        items = value if isinstance(value, (list, tuple)) and defn.merge else [value]
        if isinstance(value, (list, tuple)) and not defn.merge:
            what = "a list" if isinstance(value, list) else f"a tuple of {len(value)} tensors"
            first = value[0] if isinstance(value, tuple) and value else None
            hint = ""
            if isinstance(first, ir.Tensor) and first.producer and first.producer.layer.args.get("return_state"):
                hint = f"; unpack it first: {', '.join('abcdef'[:len(value)])} = ... (the output, then the states)"
            return self.err(vspan, M.TAKES_ONE_TENSOR, layer=defn.name, what=what, hint=hint)
        if not isinstance(value, (list, tuple)) and defn.merge:
            return self.err(vspan, M.TAKES_A_LIST, layer=defn.auto_name)
        tensors = [self.need_tensor(v, vspan) for v in items]
        if ERR in tensors:
            return ERR
        types = [t.type for t in tensors]
        if not defn.takes_ints(layer.args) and any(not t.is_float for t in types):
            bad = next(t for t in types if not t.is_float)
            return self.err(vspan, M.NEEDS_FLOAT, layer=defn.name, dtype=bad.dtype)
        try:
            outs = defn.infer(layer.args, types)
            params = defn.params(layer.args, types)
            defn.check_masked(layer.args, types, [t.masked for t in tensors])
            masks = defn.out_masked(layer.args, [t.masked for t in tensors])  # Softmax refuses a mask
        except ShapeError as e:
            self.diags.append(from_problem(vspan if len(items) == 1 else span, e))
            return ERR
        huge = _too_big(outs, params)
        if huge:
            return self.err(span, M.TOO_MANY_VALUES, layer=defn.name, what=huge)
        if not layer.nodes:
            layer.params = params
            for inner, own in defn.inner_params(layer.args, types) if defn.layer_args else ():
                inner.params = own  # a wrapper's layers hold theirs too, as applied ones do
        elif [p.shape for p in params] != [p.shape for p in layer.params]:
            return self.err(vspan, M.SHARED_MISFIT, name=layer.name, type=types[0])
        if states and tensors[0].masked:
            self.err(kw[0][1], M.MASK_IGNORED, layer=defn.name)
        node = ir.Node(layer, tensors + states, [], span, len(layer.nodes), initial_states=len(states),
                       defs=tuple(zip(self.stack, self.call_spans)))
        node.outputs = [ir.Tensor(t, node, i, masked=m) for i, (t, m) in enumerate(zip(outs, masks))]
        layer.nodes.append(node)
        self.nodes.append(node)
        return node.outputs[0] if len(node.outputs) == 1 else tuple(node.outputs)

    def call_states(self, defn, layer, kw):
        """The tensors of a call's ``initial_state=[...]``, checked against the layer's states
        (count, float, shape); ERR after reporting what is wrong."""
        owner = f"the call of {defn.name}"
        for i, (n, ns, _v, _vs) in enumerate(kw):
            if n not in defn.call_args:
                return self.err(ns, M.UNKNOWN_ARG, owner=owner, name=n, hint=suggest(n, defn.call_args))
            if any(m == n for m, *_ in kw[:i]):
                return self.err(ns, M.DUPLICATE_ARG, owner=owner, name=n)
        _n, _ns, value, vspan = kw[0]
        want = defn.state_types(layer.args)
        names = [n for n, _ in want]
        items = [value] if isinstance(value, ir.Tensor) else value  # Keras takes one state bare
        if not isinstance(items, (list, tuple)):
            if value is ERR:
                return ERR
            return self.err(vspan, M.STATE_NOT_LIST, names=", ".join(names), value=show(value))
        tensors = [self.need_tensor(v, vspan) for v in items]
        if ERR in tensors:
            return ERR
        if len(tensors) != len(want):
            return self.err(vspan, M.STATE_COUNT, layer=defn.name, n=len(want), names=", ".join(names),
                            got=len(tensors))
        for t, (name, w) in zip(tensors, want):
            if not t.type.is_float:
                return self.err(vspan, M.NEEDS_FLOAT, layer=defn.name, dtype=t.type.dtype)
            if t.type.shape != w.shape:
                return self.err(vspan, M.STATE_SHAPE, layer=defn.name, which=name, want=w, got=t.type)
        return tensors

    def need_tensor(self, v, span, env=None):
        if isinstance(v, ir.Tensor) or v is ERR:
            return v
        if isinstance(v, Sym):
            names = [k for k, x in self.cur_env.items() if isinstance(x, ir.Tensor)]
            return self.err(v.span or span, M.NAME_DEFINED, name=v.name, hint=self.hint(v.name, names))
        if isinstance(v, tuple) and v and all(isinstance(x, ir.Tensor) for x in v):
            return self.err(span, M.UNPACK_FIRST, n=len(v), names=", ".join(["a", "b", "c"][:len(v)]))
        hint = ""
        if isinstance(v, FCall) and v.name in REGISTRIES["activation"]:
            hint = f"; an activation is applied by a layer: Activation({v.name})(x), or activation={v.name}"
        return self.err(span, M.NOT_A_TENSOR, value=show(v), hint=hint)


def _too_big(outs, params) -> str:
    """What of a layer's outputs and weights would exceed int64 elements ('' if none): products of
    int64 dimensions are unbounded, and no backend could index them (or print them: str() of an int
    over 4300 digits raises)."""
    named = [("an output of more values per sample", t.shape) for t in outs]
    named += [(f"a weight '{p.name}' of more values", p.shape) for p in params]
    for what, shape in named:
        n = 1
        for d in shape:
            n *= d or 1
            if n > INT_MAX:
                return what
    return ""
