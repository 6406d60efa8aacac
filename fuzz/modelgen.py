"""Random well-typed `.net` models: ``random_spec(seed)`` is the text of one model, always the
same for one seed.

The generator keeps, for every tensor it binds, the dtype, the declared per-sample shape (None
for `?`) and the shape it has at run time (every `?` input dimension is UNKNOWN there), and only
applies a layer, merge or def where the registry's rules accept it. So every spec it writes
must pass `spec2net check`: a SpecError is a bug of this generator or of the front end, never
an expected outcome. The layers' mathematics is left to the backends, which must agree.

Over many seeds it writes every registry layer with random arguments (initializers,
regularizers, axes, ...), 1-3 inputs (float, and integer token ids for Embedding), 1-3
outputs, masked sequences, shared layers, `def` blocks with parameters, `let` constants,
`->` chains, nested calls, and sequential models.
"""

from __future__ import annotations

import math

from modelconv import ConvLayers
from modellayers import RECURRENT, F, Layers, Op, Out, T, as_t, lit
from modelsimple import SimpleLayers
from modelwrappers import WrapperLayers

UNKNOWN = 5  # run-time size of a `?` input dimension; modelrun.random_inputs uses it too
MERGES = ("concatenate", "add", "subtract", "multiply", "average", "maximum", "minimum")


def elementwise_shape(shapes):
    """The registry's element-wise merge rule (registry/merge.py): `?` wins, then the larger."""
    out = list(shapes[0])
    for s in shapes[1:]:
        out = [None if a is None or b is None else max(a, b) for a, b in zip(out, s)]
    return tuple(out)


def concat_shape(shapes, axis):
    out = list(shapes[0])
    for s in shapes[1:]:
        out = [b if a is None and i != axis else a for i, (a, b) in enumerate(zip(out, s))]
    sizes = [s[axis] for s in shapes]
    out[axis] = None if None in sizes else sum(sizes)
    return tuple(out)


class Gen(Layers, SimpleLayers, ConvLayers, WrapperLayers):
    """One random model: its statements, defs, shared layers and tensors."""

    def __init__(self, seed):
        super().__init__(seed)
        self.defs: dict = {}  # name -> make(t): the Op calling it on t, or None
        self.def_texts: list = []
        self.inputs: list = []
        self.lines: list = []
        self.pool: list = []
        self.shared: list = []  # (variable, op) of declared layers

    def unary_ops(self, t):
        return super().unary_ops(t) + self.simple_ops(t) + self.conv_ops(t) + self.wrapper_ops(t)

    def any_op(self, t, single=False):
        """A fresh layer, or a declared shared layer, or a def block, that fits ``t``."""
        r = self.r
        fits = [op for _, op in self.shared if op.outs(t) and (not single or len(op.outs(t)) == 1)]
        if fits and r.random() < 0.3:
            return r.choice(fits)
        if r.random() < 0.15:
            op = self.def_op(t)
            if op and (op.chainable or not single):
                return op
        return self.random_op(t, single)

    # -- def blocks ---------------------------------------------------------------------
    def def_op(self, t):
        """A call of a def that fits ``t``: one written before, or a new one."""
        fits = [op for op in (make(t) for make in self.defs.values()) if op is not None]
        if fits and self.r.random() < 0.6:
            return self.r.choice(fits)
        make = self.r.choice([self.new_ffn, self.new_residual, self.new_encoder])()
        return make(t)

    def add_def(self, name, params, body, make):
        lines = "\n".join(f"    {line}" for line in body)
        self.defs[name] = make
        self.def_texts.append(f"def {name}({', '.join(params)}) {{\n{lines}\n}}")
        return make

    def new_ffn(self):
        r, name = self.r, f"ffn{len(self.defs)}"
        default = self.width() if r.random() < 0.5 else None
        params = ["x", "units" + (f"={self.num(default)}" if default else ""), f"act={self.act()}"]
        body = ["h = Dense(units, activation=act)(x)"]
        if r.random() < 0.5:
            params.append(f"rate={r.choice([0.1, 0.5])}")
            body.append("h = Dropout(rate)(h)")
        if r.random() < 0.5:
            body.append(f"h = {r.choice(['LayerNormalization', 'BatchNorm', 'LeakyReLU'])}()(h)")

        def make(t):
            if not (t.is_float and t.last):
                return None
            u, args = default, ""
            if not default or r.random() < 0.5:
                u = self.width()
                args = f", {self.num(u)}" if r.random() < 0.6 else f", units={u}"
            if r.random() < 0.2:
                args += f", act={self.act()}"
            return Op(name, lambda s: [Out(F, s.shape[:-1] + (u,), s.rt[:-1] + (u,), s.masked)]
                      if s.is_float and s.last else None, args)

        return self.add_def(name, params, body + ["return h"], make)

    def new_residual(self):
        r, name = self.r, f"res{len(self.defs)}"
        merge = r.choice(MERGES[1:])
        body = r.choice([["h = Dense(width, activation=act)(x)"], ["h = x -> Dense(width) -> Activation(act)"]])

        def make(t):
            if not (t.is_float and t.last):
                return None
            args = f", {self.num(t.last)}" if r.random() < 0.6 else f", width={t.last}"
            return Op(name, lambda s: [Out(F, s.shape, s.rt, s.masked)] if s.is_float and s.last == t.last
                      else None, args)

        return self.add_def(name, ["x", "width", f"act={self.act()}"], body + [f"return {merge}([x, h])"], make)

    def new_encoder(self):
        r, name = self.r, f"enc{len(self.defs)}"
        units, seq = r.randint(1, 6), r.random() < 0.4
        kinds = r.sample(RECURRENT, 2)
        body = []
        if r.random() < 0.5:
            body.append(f"x = {kinds[0]}(units, return_sequences=true)(x)")
        back = ", go_backwards=true" if r.random() < 0.3 else ""
        body.append(f"return {kinds[1]}(units{', return_sequences=true' if seq else ''}{back})(x)")

        def make(t):
            if not (t.is_float and len(t.shape) == 2 and t.last):
                return None
            u, args = (units, "") if r.random() < 0.6 else (r.randint(1, 6), None)
            args = f", units={u}" if args is None else args
            return Op(name, lambda s: [Out(F, (s.shape[0], u), (s.rt[0], u), s.masked) if seq else Out(F, (u,), (u,))]
                      if s.is_float and len(s.shape) == 2 and s.last else None, args)

        return self.add_def(name, ["x", f"units={self.num(units)}"], body, make)

    # -- statements ---------------------------------------------------------------------
    def pick(self, cands):
        """A tensor, favouring unused and recent ones."""
        w = [(3 if not t.used else 1) * (1 + i / len(cands)) for i, t in enumerate(cands)]
        return self.r.choices(cands, w)[0]

    def bind(self, outs, srcs, var=None):
        new = [T(var or self.var(), o.dtype, o.shape, o.rt, o.masked, srcs) for o in outs]
        self.pool.extend(new)
        return new

    def emit(self, t, outs, expr, rebind=False):
        """Bind ``outs`` (computed from ``t`` by ``expr``); if ``rebind``, sometimes to t's own name
        (``h = Dense(8)(h)``), when nothing will refer to t again."""
        t.used = True
        var = None
        if rebind and len(outs) == 1 and t not in self.inputs and self.r.random() < 0.25:
            self.pool.remove(t)
            var = t.var
        new = self.bind(outs, t.srcs, var)
        self.lines.append(f"{', '.join(x.var for x in new)} = {expr}")
        return new

    def stage(self, op):
        bare = op.text.endswith("()") and self.r.random() < 0.5  # `Flatten` alone names the layer
        return op.text[:-2] if bare else op.text

    def step_unary(self):
        r, t = self.r, self.pick(self.pool)
        form = r.random()
        if form < 0.35:  # t -> A -> B, or B(A(t))
            ops, cur = [], t
            for _ in range(r.randint(2, 3)):
                ops.append(self.any_op(cur, single=True))
                cur = as_t(ops[-1].outs(cur)[0])
            if form < 0.25 and all(op.chainable for op in ops):
                expr = " -> ".join([t.var] + [self.stage(op) for op in ops])
            else:
                expr = t.var
                for op in ops:
                    expr = op.call(expr)
            return self.emit(t, [Out(cur.dtype, cur.shape, cur.rt, cur.masked)], expr, rebind=True)
        op = self.any_op(t)
        return self.emit(t, op.outs(t), op.call(t.var), rebind=True)

    def step_shared(self):
        """Declare a layer, apply it, and maybe apply it again at once (later steps may too)."""
        r, t = self.r, self.pick(self.pool)
        op = self.op_dense(t, units=t.last) if t.is_float and t.last and r.random() < 0.3 else None
        op = op or self.random_op(t)
        var = self.var("L")
        self.lines.append(f"{var} = {op.text}")
        shared = Op(var, op.outs)
        self.shared.append((var, shared))
        self.emit(t, op.outs(t), shared.call(t.var))
        again = [s for s in self.pool if s is not t and shared.outs(s)]
        if again and r.random() < 0.7:
            s = self.pick(again)
            self.emit(s, shared.outs(s), shared.call(s.var))

    def merge_fits(self, acc, b, kind, axis):
        if len(b.shape) != len(acc.shape):
            return False
        for i, (x, y) in enumerate(zip(acc.rt, b.rt)):
            if kind == "concatenate" and i != axis and x != y:
                return False
            if kind != "concatenate" and x != y and 1 not in (acc.shape[i], b.shape[i]):
                return False
        return True

    def step_merge(self):
        r = self.r
        floats = [t for t in self.pool if t.is_float]
        a, kind = self.pick(floats), r.choice(MERGES)
        rank = len(a.shape)
        axis = rank - 1 if kind != "concatenate" or r.random() < 0.6 else r.randrange(rank)
        group = [a]
        for _ in range(1 if kind == "subtract" else r.choice([1, 1, 2])):
            acc = T("", F, self.merged_shape(kind, axis, group, "shape"), self.merged_shape(kind, axis, group, "rt"))
            cands = [b for b in floats if b not in group and self.merge_fits(acc, b, kind, axis)]
            if r.random() < 0.05:
                cands = [a]  # the same tensor twice
            if not cands or r.random() < 0.35:
                cands = self.partner(a, acc, kind, axis)
            group.append(self.pick(cands))
        r.shuffle(group)
        if kind in ("add", "average"):
            # Keras on TensorFlow adds a later operand of shape (batch, 1, ..., 1) as a bias
            # (tf.nn.bias_add) when the batch size equals a dimension of the sum so far, which
            # broadcasts it wrongly (reported): such operands go first
            group.sort(key=lambda t: any(d != 1 for d in t.rt))
        kw = f", axis={self.axis_text(axis, rank)}" if kind == "concatenate" and (axis != rank - 1 or r.random() < .3) else ""
        masked = any(t.masked for t in group) if kind == "concatenate" else all(t.masked for t in group)
        for t in group:
            t.used = True
        out = Out(F, self.merged_shape(kind, axis, group, "shape"), self.merged_shape(kind, axis, group, "rt"), masked)
        (new,) = self.bind([out], frozenset().union(*(t.srcs for t in group)))
        self.lines.append(f"{new.var} = {kind}([{', '.join(t.var for t in group)}]{kw})")

    def merged_shape(self, kind, axis, group, attr):
        shapes = [getattr(t, attr) for t in group]
        if kind == "concatenate":
            return concat_shape(shapes, axis)
        return elementwise_shape(shapes) if attr == "shape" else tuple(map(max, zip(*shapes)))

    def partner(self, a, acc, kind, axis):
        """A new tensor computed from ``a`` that fits the merge (a branch, as in a residual)."""
        for _ in range(20):
            if a.last and self.r.random() < 0.5:
                op = self.op_dense(a, units=self.r.choice([a.last, 1, self.width()]))
            else:
                op = self.random_op(a, single=True)
            outs = op.outs(a)
            if len(outs) == 1 and self.merge_fits(acc, as_t(outs[0]), kind, axis):
                return self.emit(a, outs, op.call(a.var))
        return [a]

    # -- models ---------------------------------------------------------------------------
    def input_type(self, i, token_ids):
        """(dtype, declared shape) of a new input; floats sometimes repeat an earlier shape."""
        r = self.r
        if token_ids:
            dtype = r.choice(["int32"] * 6 + ["int64", "int16", "uint8"])
            shape = [r.randint(1, 6)] if r.random() < 0.85 else [r.randint(1, 3), r.randint(1, 4)]
        else:
            dtype = r.choice(["float32"] * 18 + ["float64", "float16"])
            earlier = [t.shape for t in self.inputs if t.is_float]
            if earlier and r.random() < 0.4:
                return dtype, r.choice(earlier)
            shape = r.choice([[self.width()], [r.randint(1, 6), r.randint(1, 8)],
                              [r.randint(1, 6), self.width(8)], [r.randint(1, 4) for _ in range(3)]])
        if r.random() < (0.2 if len(shape) > 1 or token_ids else 0.04):
            shape[0] = None
        return dtype, tuple(shape)

    def dims(self, shape):
        return ", ".join("?" if d is None else self.num(d) for d in shape)

    def functional(self):
        r = self.r
        for i in range(r.choice([1, 1, 1, 2, 2, 3])):
            ids = r.random() < 0.3
            dtype, shape = self.input_type(i, ids)
            name = f"{'tok' if ids else 'in'}{i}"
            t = T(name, dtype, shape, tuple(UNKNOWN if d is None else d for d in shape), srcs=frozenset([name]))
            self.inputs.append(t)
            self.pool.append(t)
            typ = "" if dtype == F and r.random() < 0.3 else dtype
            self.lines.append(f"input {name}: {typ}[{self.dims(shape)}]")
        for _ in range(r.randint(2, 9)):
            kind = r.choices(["unary", "merge", "shared"], [6, 2.5, 1])[0]
            if kind == "merge" and any(t.is_float for t in self.pool):
                self.step_merge()
            elif kind == "shared":
                self.step_shared()
            else:
                self.step_unary()
        self.finish()
        return "model"

    def finish(self):
        """Use every input, embed every integer tensor, then pick 1-3 outputs that need every input."""
        r = self.r
        for t in self.inputs:
            if not t.used:
                op = self.random_op(t)
                self.emit(t, op.outs(t), op.call(t.var))
        for t in list(self.pool):
            if not t.used and not t.is_float:
                op = self.op_embedding(t)
                self.emit(t, op.outs(t), op.call(t.var))
        leaves = [t for t in reversed(self.pool) if not t.used]
        need, chosen = {t.var for t in self.inputs}, []
        for t in leaves:
            if t.srcs & need:
                chosen.append(t)
                need -= t.srcs
        while len(chosen) > 3:  # too many: join two, flattened, into one
            a, b = chosen.pop(), chosen.pop()
            parts = [x.var if len(x.shape) == 1 else f"Flatten()({x.var})" for x in (a, b)]
            size = [None if None in x.shape else math.prod(x.shape) for x in (a, b)]
            (new,) = self.bind([Out(F, (None if None in size else sum(size),), (math.prod(a.rt) + math.prod(b.rt),))],
                               a.srcs | b.srcs)
            self.lines.append(f"{new.var} = concatenate([{', '.join(parts)}])")
            chosen.append(new)
        chosen += [t for t in leaves if t not in chosen][:max(0, r.choice([1, 1, 2, 2, 3]) - len(chosen))]
        for i, t in enumerate(chosen):
            form = r.random()
            if form < 0.25:
                op = self.op_dense(t) or self.op_activation(t)
                self.lines.append(f"output y{i} = {op.call(t.var)}")
            else:
                self.lines.append(f"output {t.var}" if form < 0.6 else f"output y{i} = {t.var}")

    def sequential(self):
        """One input, then layers one per line; the first may declare the input itself."""
        r = self.r
        dtype, shape = self.input_type(0, r.random() < 0.3)
        cur = T("input", dtype, shape, tuple(UNKNOWN if d is None else d for d in shape))
        by_arg = None not in shape and r.random() < 0.4
        if by_arg:
            dtype = "int32" if not cur.is_float else F  # a sequential's input takes the first layer's dtype
            cur.dtype = dtype
        else:
            self.lines.append(f"input {dtype}[{self.dims(shape)}]")
        for i in range(r.randint(1, 5)):
            op = self.op_embedding(cur) if by_arg and i == 0 and not cur.is_float else self.random_op(cur)
            text = self.stage(op)
            if by_arg and i == 0:
                given = r.choice(["input_shape", "input_dim" if cur.is_float and len(shape) == 1 else "input_shape",
                                  "input_length" if not cur.is_float and len(shape) == 1 else "input_shape"])
                value = lit(shape) if given == "input_shape" else str(shape[0])
                text = f"{op.text[:-1]}{', ' if not op.text.endswith('()') else ''}{given}={value})"
            self.lines.append(text)
            cur = as_t(op.outs(cur)[0])  # a multi-output layer passes on its first output
        if not cur.is_float:
            self.lines.append(self.op_embedding(cur).text)
        return "sequential"

    def text(self, kind):
        r = self.r
        top = [f"let {k} = {lit(v)}" for k, v in self.lets.items()] + self.def_texts
        if r.random() < 0.08:  # a file may hold several models; commands take the last one
            top.append("sequential decoy { input [2]; Dense(1) }")
        body, i = [], 0
        while i < len(self.lines):  # `;` joins statements on a line now and then
            if i + 1 < len(self.lines) and r.random() < 0.1:
                body.append(f"{self.lines[i]}; {self.lines[i + 1]}")
                i += 2
            else:
                body.append(self.lines[i])
                i += 1
        model = f"{kind} random {{\n" + "\n".join(f"    {line}" for line in body) + "\n}"
        return "\n\n".join(top + [model]) + "\n"


def random_spec(seed: int) -> str:
    """The text of one random, well-typed `.net` model; the same for the same seed."""
    gen = Gen(seed)
    kind = gen.sequential() if gen.r.random() < 0.15 else gen.functional()
    return f"# modelgen.random_spec({seed})\n" + gen.text(kind)
