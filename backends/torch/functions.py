"""Activations, initializers and penalties as torch source: one table entry each, Keras 3's formulas.

An activation is the torch function that computes it (``None`` where it needs an argument and is
written as an expression instead); an initializer is a call of the runtime on the weight's
Keras-layout shape, so fans are Keras's fans; the argument values (leaky_relu's slope, the
variance-scaling factors) come from the IR and the registry, written as literals.
"""

from __future__ import annotations

from spec2net.codegen import py_literal
from spec2net.registry import REGISTRIES
from spec2net.tables import Table

# name -> torch callable (exact erf GELU, softmax over the last axis, as Keras 3); a Table, so a
# missing activation is a clear MissingEntry
ACTIVATIONS = Table("torch activation", instantiate=False)
_CALLABLES = {
    "relu": "torch.relu",
    "sigmoid": "torch.sigmoid",
    "tanh": "torch.tanh",
    "elu": "F.elu",
    "selu": "torch.selu",
    "gelu": "F.gelu",
    "swish": "F.silu",
    "softplus": "F.softplus",
    "softsign": "F.softsign",
    "hard_sigmoid": "F.hardsigmoid",  # relu6(x + 3) / 6, as Keras 3 defines it
    "exponential": "torch.exp",
    "relu6": "F.relu6",
    "mish": "F.mish",
    "hard_silu": "F.hardswish",  # x * relu6(x + 3) / 6, Keras 3's hard_silu
    "log_sigmoid": "F.logsigmoid",
    "hard_tanh": "F.hardtanh",
}
_EXPRESSIONS = {
    "linear": "{x}",
    "leaky_relu": "F.leaky_relu({x}, {negative_slope})",  # the slope from the IR (the registry's 0.2)
    "softmax": "torch.softmax({x}, dim=-1)",
    "log_softmax": "torch.log_softmax({x}, dim=-1)",
    "celu": "F.celu({x}, {alpha})",
}
for _name, _fn in _CALLABLES.items():
    ACTIVATIONS.add(_fn, _name)
for _name in _EXPRESSIONS:
    ACTIVATIONS.add(None, _name)  # written as an expression: it takes an argument or an axis


def activation_expr(ref, x: str, imports: set) -> str:
    """``activation_expr(Ref("activation", "relu"), "h", set())`` -> ``"torch.relu(h)"``; adds
    ``"F"`` to ``imports`` where the source uses torch.nn.functional."""
    fn = ACTIVATIONS[ref.name]
    args = {k: py_literal(v) for k, v in ref.args}
    src = f"{fn}({x})" if fn else _EXPRESSIONS[ref.name].format(x=x, **args)
    if src.startswith("F."):
        imports.add("F")
    return src


def activation_callable(ref, imports: set) -> str:
    """A callable for the step loops: ``torch.tanh``, or a lambda for the written-out ones."""
    fn = ACTIVATIONS[ref.name]
    if fn and fn.startswith("F."):
        imports.add("F")
    return fn or f"lambda v: {activation_expr(ref, 'v', imports)}"


# name -> format of a runtime call with {shape}, {g} and the ref's args (variance scaling aside)
_INITIALIZERS = {
    "zeros": "torch.zeros({shape})",
    "ones": "torch.ones({shape})",
    "constant": "torch.full({shape}, {value})",
    "random_uniform": "rt.random_uniform({shape}, {minval}, {maxval}, {g})",
    "random_normal": "rt.random_normal({shape}, {mean}, {stddev}, {g})",
    "truncated_normal": "rt.truncated_normal({shape}, {mean}, {stddev}, {g})",
    "orthogonal": "rt.orthogonal({shape}, {gain}, {g})",
    "identity": "{gain} * torch.eye(*{shape})",
}


def initializer_call(ref, shape: tuple) -> str:
    """Source of a call drawing a tensor of ``shape`` (Keras's layout).

    >>> from spec2net.ir import Ref
    >>> initializer_call(Ref("initializer", "zeros"), (3,))
    'torch.zeros((3,))'
    """
    if ref.name == "unit_forget_bias":  # LSTMCell.build's bias (gates i f c o): the forget quarter is one
        inner, u = ref.kwargs["bias_initializer"], shape[0] // 4
        first, rest = initializer_call(inner, (u,)), initializer_call(inner, (2 * u,))
        return f"torch.cat([{first}, torch.ones({u}), {rest}])"
    args = {k: py_literal(v) for k, v in ref.args}
    # an initializer's own seed makes that weight reproducible by itself, as Keras's does
    g = f"rt.generator({args['seed']})" if ref.kwargs.get("seed") is not None else "g"
    scaling = REGISTRIES["initializer"][ref.name].variance_scaling
    if scaling:
        scale, mode, dist = scaling
        factors = f"{scale}, {py_literal(mode)}, {py_literal(dist)}"
        return f"rt.variance_scaling({py_literal(tuple(shape))}, {factors}, {g})"
    return _INITIALIZERS[ref.name].format(shape=py_literal(tuple(shape)), g=g, **args)


def regularizer_expr(ref, xs) -> str:
    """Keras's penalty of ``ref`` over the tensors ``xs`` (one Keras weight may be two torch tensors).

    >>> from spec2net.ir import Ref
    >>> regularizer_expr(Ref("regularizer", "l2", (("l2", 0.01),)), ["w"])
    'rt.regularization([w], l2=0.01)'
    """
    factors = ", ".join(f"{k}={py_literal(v)}" for k, v in ref.args if v)  # a zero factor adds no term
    return f"rt.regularization([{', '.join(xs)}], {factors})" if factors else "0.0"
