"""Activations and initializers as torch source: one table entry each, Keras 3's formulas.

An activation is the torch function that computes it (``None`` where it needs an
argument and is written as an expression instead); an initializer is a call of a
helper of the generated file on the weight's Keras-layout shape, so fans are
Keras's fans.
"""

from __future__ import annotations

from spec2net.codegen import py_literal

# name -> torch callable; Keras's defaults written out (exact erf GELU, softmax over the last axis).
ACTIVATIONS = {
    "linear": None,
    "relu": "torch.relu",
    "leaky_relu": None,
    "sigmoid": "torch.sigmoid",
    "tanh": "torch.tanh",
    "softmax": None,
    "elu": "F.elu",
    "selu": "torch.selu",
    "gelu": "F.gelu",
    "swish": "F.silu",
    "softplus": "F.softplus",
    "softsign": "F.softsign",
    "hard_sigmoid": "F.hardsigmoid",  # relu6(x + 3) / 6, as Keras 3 defines it
    "exponential": "torch.exp",
}
_EXPRESSIONS = {
    "linear": "{x}",
    "leaky_relu": "F.leaky_relu({x}, {negative_slope})",  # the slope from the IR (the registry's 0.2)
    "softmax": "torch.softmax({x}, dim=-1)",
}


def activation_expr(ref, x: str) -> str:
    """``activation_expr(Ref("activation", "relu"), "h")`` -> ``"torch.relu(h)"``."""
    fn = ACTIVATIONS[ref.name]
    return f"{fn}({x})" if fn else _EXPRESSIONS[ref.name].format(x=x, **{k: py_literal(v) for k, v in ref.args})


def activation_callable(ref) -> str:
    """A callable for the step loops: ``torch.tanh``, or a lambda for the written-out ones."""
    fn = ACTIVATIONS[ref.name]
    return fn or f"lambda v: {activation_expr(ref, 'v')}"


# name -> (helper the generated file needs, format of the call with {shape}, {g} and the ref's args)
_VS = "_variance_scaling({shape}, {scale}, {mode!r}, {dist!r}, {g})"
_VARIANCE_SCALING = {
    "glorot_uniform": (1.0, "fan_avg", "uniform"), "glorot_normal": (1.0, "fan_avg", "truncated_normal"),
    "he_uniform": (2.0, "fan_in", "uniform"), "he_normal": (2.0, "fan_in", "truncated_normal"),
    "lecun_uniform": (1.0, "fan_in", "uniform"), "lecun_normal": (1.0, "fan_in", "truncated_normal"),
}
_INITIALIZERS = {
    "zeros": ("", "torch.zeros({shape})"),
    "ones": ("", "torch.ones({shape})"),
    "constant": ("", "torch.full({shape}, {value})"),
    "random_uniform": ("init_random", "_random_uniform({shape}, {minval}, {maxval}, {g})"),
    "random_normal": ("init_random", "_random_normal({shape}, {mean}, {stddev}, {g})"),
    "truncated_normal": ("init_random", "_truncated_normal({shape}, {mean}, {stddev}, {g})"),
    "orthogonal": ("init_orthogonal", "_orthogonal({shape}, {gain}, {g})"),
    "identity": ("", "{gain} * torch.eye(*{shape})"),
}


def initializer_call(ref, shape: tuple) -> tuple[str, str]:
    """(helper name or "", source of a call drawing a tensor of ``shape``).

    >>> from spec2net.ir import Ref
    >>> initializer_call(Ref("initializer", "zeros"), (3,))
    ('', 'torch.zeros((3,))')
    """
    args = {k: py_literal(v) for k, v in ref.args}
    # an initializer's own seed makes that weight reproducible by itself, as Keras's does
    g = f"_generator({args['seed']})" if ref.kwargs.get("seed") is not None else "g"
    if ref.name in _VARIANCE_SCALING:
        scale, mode, dist = _VARIANCE_SCALING[ref.name]
        return "init_variance_scaling", _VS.format(shape=py_literal(shape), scale=scale, mode=mode, dist=dist, g=g)
    helper, fmt = _INITIALIZERS[ref.name]
    return helper, fmt.format(shape=py_literal(tuple(shape)), g=g, **args)


# name -> terms of Keras's penalty on a tensor {x}: l1 * sum(|x|), l2 * sum(x ** 2), no 1/2
_REGULARIZER_TERMS = {"l1": ("l1",), "l2": ("l2",), "l1_l2": ("l1", "l2")}
_TERM = {"l1": "{c} * {x}.abs().sum()", "l2": "{c} * {x}.square().sum()"}


def regularizer_expr(ref, xs) -> str:
    """Keras's penalty of ``ref`` over the tensors ``xs`` (one Keras weight may be two torch tensors).

    >>> from spec2net.ir import Ref
    >>> regularizer_expr(Ref("regularizer", "l2", (("l2", 0.01),)), ["w"])
    '0.01 * w.square().sum()'
    """
    a = ref.kwargs
    # like Keras's L1L2, a zero factor adds no term at all
    terms = [_TERM[t].format(c=py_literal(a[t]), x=x) for t in _REGULARIZER_TERMS[ref.name] if a[t] for x in xs]
    return " + ".join(terms) if terms else "0.0"
