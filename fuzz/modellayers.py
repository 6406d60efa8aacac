"""The one-tensor layers of modelgen's random models: each builder picks random arguments for
a layer that fits a tensor and returns an Op, whose ``outs(t)`` gives the output types for any
tensor t the layer (declared once, maybe shared) fits, following the registry's shape rules.
Also the values the models are written with: widths, activations, initializers, regularizers,
`let` constants."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass

from spec2net.registry import LAYERS, REGISTRIES, canonical_layers

F = "float32"
ACTIVATIONS = sorted(REGISTRIES["activation"])  # aliases too: `silu` must work like `swish`
RECURRENT = tuple(name for name, d in canonical_layers().items() if d.mask == "rnn")  # SimpleRNN, LSTM, GRU
VECTOR_INITS = ("zeros", "ones", "constant(0.1)", "constant(value=-0.2)", "random_uniform",
                "uniform(-0.1, 0.1)", "random_uniform(minval=-0.3, maxval=0.3, seed=7)", "random_normal",
                "normal(stddev=0.2)", "random_normal(0.1, 0.3, seed=2)", "truncated_normal(stddev=0.2)",
                "glorot_uniform", "he_normal(seed=4)", "lecun_uniform")
MATRIX_INITS = VECTOR_INITS + ("glorot_normal", "he_uniform", "lecun_normal(seed=1)", "orthogonal",
                               "orthogonal(gain=0.5)", "identity", "identity(gain=0.8)")
REGULARIZERS = ("l1", "l2", "l1(0.001)", "l2(l2=1e-4)", "l1_l2(l1=1e-5, l2=1e-4)", "l1_l2")

@dataclass
class T:
    """A bound tensor: its variable, dtype, declared shape, run-time shape, mask and sources."""

    var: str
    dtype: str
    shape: tuple
    rt: tuple
    masked: bool = False
    srcs: frozenset = frozenset()
    used: bool = False

    @property
    def is_float(self):
        return self.dtype.startswith("float")

    @property
    def last(self):  # the known last dimension, or None
        return self.shape[-1] if self.shape else None


@dataclass
class Out:
    dtype: str
    shape: tuple
    rt: tuple
    masked: bool = False


@dataclass
class Op:
    """Something applied to one tensor: a layer value's text (``Dense(4)``, a shared layer's
    variable) or a def's name with its other arguments; ``outs(t)`` is None where t does not fit."""

    text: str
    outs: Callable
    def_args: str | None = None  # set for a def call: ", 4, act=relu"

    def call(self, var):
        return f"{self.text}({var}{self.def_args})" if self.def_args is not None else f"{self.text}({var})"

    @property
    def chainable(self):
        return self.def_args in (None, "")


def as_t(o: Out) -> T:
    """An unbound tensor of ``o``'s type: a stage inside a chain, or a merge's candidate."""
    return T("", o.dtype, o.shape, o.rt, o.masked)


def lit(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, tuple):
        return "(" + ", ".join(map(lit, v)) + ("," if len(v) == 1 else "") + ")"
    if isinstance(v, list):
        return "[" + ", ".join(map(lit, v)) + "]"
    return repr(v) if isinstance(v, float) else str(v)


def factor(n, rank, r):
    """``rank`` random factors of ``n``."""
    dims = []
    for _ in range(rank - 1):
        d = r.choice([k for k in range(1, n + 1) if n % k == 0])
        dims.append(d)
        n //= d
    return dims + [n]


class Layers:
    """Random layers, and the values they are written with, for one model."""

    def __init__(self, seed):
        self.r = random.Random(seed)
        self.lets: dict = {}
        self.n = 0
        self.n_named = 0
        self.exp_used = False

    # -- values -----------------------------------------------------------------------
    def var(self, stem="t"):
        self.n += 1
        return f"{stem}{self.n}"

    def num(self, v):
        """``v`` as text; sometimes a `let` constant that holds it (made on first use)."""
        if self.r.random() < 0.12:
            for k, x in self.lets.items():
                if x == v and type(x) is type(v):
                    return k
            name = f"c{len(self.lets)}"
            self.lets[name] = v
            return name
        return lit(v)

    def width(self, hi=16):
        return self.r.choice([k for k in (1, 2, 3, 4, 4, 5, 6, 8, 8, 12, 16) if k <= hi])

    def act(self):
        name = self.r.choice(ACTIVATIONS)
        if name == "exponential":  # one exp per model: chained, they overflow float32
            name, self.exp_used = ("tanh" if self.exp_used else name), True
        return self.num(name)

    def maybe(self, kw, p, key, value):
        if self.r.random() < p:
            kw.append(f"{key}={value() if callable(value) else value}")

    def flag(self, kw, key, value, default, p=0.1):
        """A boolean argument: written when it is not the default, and now and then when it is."""
        if value != default or self.r.random() < p:
            kw.append(f"{key}={lit(value)}")

    def extras(self, kw):
        """Sometimes a name (def bodies have none: two calls would clash), rarely trainable=false."""
        if self.r.random() < 0.08:
            self.n_named += 1
            kw.append(f'name="{self.r.choice(["enc", "L-", "blk.", "Head"])}{self.n_named}"')
        self.maybe(kw, 0.04, "trainable", "false")

    # -- one-tensor layers: each returns an Op, or None where ``t`` does not fit --------
    def op_dense(self, t, units=None):
        if not (t.is_float and t.last):
            return None
        u, r = units or self.width(), self.r
        kw = [self.num(u)] if r.random() < 0.8 else [f"units={self.num(u)}"]
        self.maybe(kw, 0.6, "activation", self.act)
        self.maybe(kw, 0.2, "use_bias", "false")
        self.maybe(kw, 0.2, "kernel_initializer", lambda: r.choice(MATRIX_INITS))
        self.maybe(kw, 0.15, "bias_initializer", lambda: r.choice(VECTOR_INITS))
        for key in ("kernel_regularizer", "bias_regularizer", "activity_regularizer"):
            self.maybe(kw, 0.07, key, lambda: r.choice(REGULARIZERS))
        n_in = t.last
        return self.layer("Dense", kw, lambda s: [Out(F, s.shape[:-1] + (u,), s.rt[:-1] + (u,), s.masked)]
                          if s.is_float and s.last == n_in else None)

    def op_embedding(self, t):
        if t.is_float:
            return None
        r, d, vocab = self.r, self.width(), self.r.randint(2, 20)
        kw = [self.num(vocab), self.num(d)] if r.random() < 0.7 else [f"input_dim={vocab}", f"output_dim={d}"]
        mask = r.random() < 0.5
        self.flag(kw, "mask_zero", mask, False)
        self.maybe(kw, 0.2, "embeddings_initializer", lambda: r.choice(MATRIX_INITS))
        self.maybe(kw, 0.07, "embeddings_regularizer", lambda: r.choice(REGULARIZERS))
        self.maybe(kw, 0.05, "activity_regularizer", lambda: r.choice(REGULARIZERS))
        return self.layer("Embedding", kw, lambda s: None if s.is_float else
                          [Out(F, s.shape + (d,), s.rt + (d,), mask)])

    def op_rnn(self, t, kind=None):
        if not (t.is_float and len(t.shape) == 2 and t.last):
            return None
        r = self.r
        kind = kind or r.choice(RECURRENT)
        takes = {a.name for a in LAYERS[kind].args}
        u, seq, state = r.randint(1, 8), r.random() < 0.5, r.random() < 0.3
        kw = [self.num(u)]
        self.flag(kw, "return_sequences", seq, False)
        self.flag(kw, "return_state", state, False)
        self.maybe(kw, 0.3, "go_backwards", lambda: lit(r.random() < 0.8))
        self.maybe(kw, 0.2, "activation", lambda: r.choice(["relu", "sigmoid", "softsign", "linear", "elu", "tanh"]))
        if "recurrent_activation" in takes:
            self.maybe(kw, 0.2, "recurrent_activation", lambda: r.choice(["hard_sigmoid", "tanh", "sigmoid"]))
        self.maybe(kw, 0.15, "use_bias", "false")
        self.maybe(kw, 0.2 if "unit_forget_bias" in takes else 0, "unit_forget_bias", "false")
        self.maybe(kw, 0.3 if "reset_after" in takes else 0, "reset_after", "false")
        self.maybe(kw, 0.12, "dropout", lambda: r.choice([0.1, 0.5]))
        self.maybe(kw, 0.1, "recurrent_dropout", lambda: r.choice([0.2, 0.4]))
        self.maybe(kw, 0.08, "seed", lambda: r.randint(0, 99))
        for key in ("kernel_initializer", "recurrent_initializer"):
            self.maybe(kw, 0.12, key, lambda: r.choice(MATRIX_INITS))
        self.maybe(kw, 0.1, "bias_initializer", lambda: r.choice(VECTOR_INITS))
        for key in ("kernel_regularizer", "recurrent_regularizer", "bias_regularizer", "activity_regularizer"):
            self.maybe(kw, 0.04, key, lambda: r.choice(REGULARIZERS))
        n_states, feats = LAYERS[kind].states if state else 0, t.last

        def outs(s):
            if not (s.is_float and len(s.shape) == 2 and s.last == feats):
                return None
            first = Out(F, (s.shape[0], u), (s.rt[0], u), s.masked) if seq else Out(F, (u,), (u,))
            return [first] + [Out(F, (u,), (u,)) for _ in range(n_states)]

        return self.layer(kind, kw, outs)

    def same_shape(self, kind, kw):
        return self.layer(kind, kw, lambda s: [Out(F, s.shape, s.rt, s.masked)] if s.is_float else None)

    def op_dropout(self, t):
        if not t.is_float:
            return None
        r = self.r
        kw = [self.num(r.choice([0.0, 0.1, 0.25, 0.5, 0.8]))]
        self.maybe(kw, 0.3, "seed", lambda: r.randint(0, 9))
        if None not in t.shape and r.random() < 0.1:  # Keras's noise_shape counts the batch
            kw.append(f"noise_shape={lit((1,) + tuple(r.choice([1, d]) for d in t.shape))}")
        return self.same_shape("Dropout", kw)

    def axis_text(self, i, rank):
        """Per-sample axis ``i`` in Keras's numbering, counted from either end."""
        return str(i + 1) if self.r.random() < 0.5 else str(i - rank)

    def op_norm(self, t, kind):
        # Kept out, as Keras 3.15 gets them wrong (reported): a LayerNormalization rounds its
        # output to a half-precision input's dtype; masked batch moments squeeze away a
        # normalized axis of size 1, then fail (BatchNormalization._moments)
        half = kind == "LayerNormalization" and t.dtype in ("float16", "bfloat16")
        odd = kind == "BatchNormalization" and t.masked
        known = [i for i, d in enumerate(t.shape) if d is not None and not (odd and d == 1)]
        if not (t.is_float and known) or half:
            return None
        r, rank = self.r, len(t.shape)
        if kind == "LayerNormalization" and r.random() < 0.3:
            # in any order, each from either end: Keras sorts the list as written, so [1, -1] gives
            # gamma the shape (last, first)
            axes = r.sample(known, r.randint(1, len(known)))
            kw = [f"axis=[{', '.join(self.axis_text(i, rank) for i in axes)}]"]
        elif t.last and rank - 1 in known and r.random() < 0.7:
            axes, kw = [rank - 1], []
        else:
            axes = [r.choice(known)]
            kw = [f"axis={self.axis_text(axes[0], rank)}"]
        if kind == "BatchNormalization":
            self.maybe(kw, 0.3, "momentum", lambda: r.choice([0.0, 0.5, 0.9, 0.99]))
        self.maybe(kw, 0.3, "epsilon", lambda: r.choice([1e-5, 0.001, 0.01, 0.5]))
        self.maybe(kw, 0.2, "center", "false")
        self.maybe(kw, 0.2, "scale", "false")
        for key in ("beta_initializer", "gamma_initializer") + (
                ("moving_mean_initializer", "moving_variance_initializer") if kind == "BatchNormalization" else ()):
            self.maybe(kw, 0.06, key, lambda: r.choice(VECTOR_INITS))
        for key in ("beta_regularizer", "gamma_regularizer"):
            self.maybe(kw, 0.04, key, lambda: r.choice(REGULARIZERS))
        sizes = [t.shape[i] for i in axes]
        alias = {"BatchNormalization": "BatchNorm", "LayerNormalization": "LayerNorm"}[kind]

        def outs(s):
            fits = s.is_float and len(s.shape) == rank and [s.shape[i] for i in axes] == sizes
            odd = (kind == "BatchNormalization" and s.masked and 1 in sizes
                   or kind == "LayerNormalization" and s.dtype in ("float16", "bfloat16"))
            return [Out(F, s.shape, s.rt, s.masked)] if fits and not odd else None

        return self.layer(alias if r.random() < 0.3 else kind, kw, outs)

    def op_activation(self, t):
        return self.same_shape("Activation", [self.act() if self.r.random() < 0.8 else f"activation={self.act()}"])

    def op_leaky(self, t):
        r = self.r
        kw = r.choice([[], [self.num(r.choice([0.1, 0.2, 0.0, 1.5]))], ["negative_slope=0.05"], ["alpha=0.25"]])
        return self.same_shape("LeakyReLU", kw)

    def op_flatten(self, t):
        return self.layer("Flatten", [], lambda s: [Out(s.dtype, (None if None in s.shape else math.prod(s.shape),),
                                                        (math.prod(s.rt),))])

    def op_reshape(self, t):
        r, total = self.r, math.prod(t.rt)
        target = factor(total, r.choice([1, 2, 2, 3]), r)
        r.shuffle(target)
        minus = r.random() < 0.5 or None in t.shape
        if minus:
            target[r.randrange(len(target))] = -1
        dims = tuple(target)
        rt = tuple(total // -math.prod(dims) if d == -1 else d for d in dims)
        unknown_in = None in t.shape
        shape = tuple(None if d == -1 else d for d in dims) if unknown_in else rt
        kw = [lit(dims) if r.random() < 0.7 else f"target_shape={lit(dims)}"]
        # a fully known input must hold exactly the same number of values at check time
        return self.layer("Reshape", kw, lambda s: [Out(s.dtype, shape, rt)]
                          if math.prod(s.rt) == total and (None in s.shape) == unknown_in else None)

    def layer(self, kind, kw, outs):
        self.extras(kw)
        return Op(f"{kind}({', '.join(kw)})", outs)

    def unary_ops(self, t):
        """(weight, builder) of every one-tensor layer."""
        seq = len(t.shape) == 2 and t.masked
        return [(3, self.op_dense), (4 if not t.is_float else 0, self.op_embedding),
                (8 if seq else 3, self.op_rnn), (1, self.op_dropout),
                (1, lambda t: self.op_norm(t, "BatchNormalization")),
                (1, lambda t: self.op_norm(t, "LayerNormalization")),
                (1, self.op_activation), (0.6, self.op_leaky),
                (0.8 if len(t.shape) > 1 else 0.2, self.op_flatten), (0.7, self.op_reshape)]

    def random_op(self, t, single=False):
        """A fresh one-tensor layer that fits ``t`` (with one output if ``single``)."""
        ops = self.unary_ops(t)
        while True:
            op = self.r.choices([f for _, f in ops], [w for w, _ in ops])[0](t)
            outs = op and op.outs(t)
            if outs and (not single or len(outs) == 1):
                return op
