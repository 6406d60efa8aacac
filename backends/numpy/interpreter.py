"""The interpreter loop: the model's nodes in execution order, each through its kernel."""

from __future__ import annotations

import numpy as np

from spec2net import ir
from spec2net.weights import check_weights, is_real

from .base import KernelCall
from .initializers import derive_seed
from .kernels import KERNELS


class InputError(ValueError):
    """Inputs that do not fit the model's declared inputs."""


def _inputs(model: ir.Model, inputs: dict, dtype) -> dict:
    names = [t.input_name for t in model.inputs]
    missing = [n for n in names if n not in inputs]
    extra = sorted(set(inputs) - set(names))
    if missing or extra:
        raise InputError(f"inputs do not match the model's: missing {missing}, unexpected {extra} "
                         f"(the model takes {names})")
    out = {}
    for t in model.inputs:
        x = np.asarray(inputs[t.input_name])
        want = (None, *t.type.shape)
        if x.ndim != len(want) or any(w is not None and w != d for w, d in zip(want, x.shape)):
            raise InputError(f"input {t.input_name!r}: expected shape {_fmt(want)} (batch first), got {x.shape}")
        if not is_real(x):
            raise InputError(f"input {t.input_name!r}: expected real numbers ({t.type.dtype}), got dtype {x.dtype}")
        if t.type.is_float:
            x = x.astype(dtype, copy=False)
        elif not np.issubdtype(x.dtype, np.integer):
            if not np.all(np.isfinite(x)) or np.any(x != np.round(x)):
                raise InputError(f"input {t.input_name!r} is {t.type.dtype}: got non-integer values")
            x = x.astype(t.type.dtype)
        out[t.input_name] = x
    return out


def _fmt(shape) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def _node_seed(seed, node: ir.Node):
    own = node.layer.args.get("seed")  # absent, not defaulted: only the random layers take a seed
    if seed is None and own is None:
        return None  # fresh entropy, as an unseeded Keras layer
    return derive_seed("node", seed, own, node.layer.name, node.call_index)


def forward(model: ir.Model, inputs: dict, weights: dict, training=False, seed=None, dtype=np.float32,
            keep=False):
    """Run every node; return ``(values, masks, caches, state)`` keyed by ir.Tensor (values,
    masks) and ir.Node (caches). The building block of ``run`` and of a later backward pass."""
    check_weights(model, weights)
    dtype = np.dtype(dtype)
    w = {k: np.asarray(v, dtype=dtype) for k, v in weights.items()}
    given = _inputs(model, inputs, dtype)
    values, masks, caches, state = {}, {}, {}, {}
    for t in model.inputs:
        values[t], masks[t] = given[t.input_name], None
    for node in model.nodes:
        layer = node.layer
        k = KERNELS[layer.type]
        lw = {p.name: w[layer.name + "/" + p.name] for p in layer.params}
        xs = [values[t] for t in node.inputs]
        c = KernelCall(layer, lw, [masks[t] for t in node.inputs], training, dtype, _node_seed(seed, node), keep)
        outs, caches[node] = k.forward(c, xs)
        for name, value in c.updates.items():
            # later calls of a shared layer see the statistics that earlier calls updated
            w[layer.name + "/" + name] = state[layer.name + "/" + name] = value.astype(dtype, copy=False)
        for t, y, m in zip(node.outputs, outs, k.out_masks(c, xs, c.masks, outs)):
            values[t], masks[t] = y, m
    return values, masks, caches, state


def run(model: ir.Model, inputs: dict, weights: dict, training=False, seed=None, dtype=np.float32,
        trace=False) -> dict:
    """Run ``model`` on a batch: ``run(net.ir, {"x": x}, weights)["y"]``.

    ``training`` turns on dropout and batch statistics; the updated BN moving statistics
    then come back under ``"__state__"`` ({"layer/moving_mean": ...}). ``seed`` makes
    dropout deterministic (None: layers without their own seed draw fresh entropy).
    ``trace`` adds ``"__trace__"``: every node's outputs keyed by layer name, and
    ``"name#k"`` for the k-th (k >= 1) call of a shared layer.
    """
    values, _, _, state = forward(model, inputs, weights, training, seed, dtype)
    out = {o.name: values[o.tensor] for o in model.outputs}
    if training:
        out["__state__"] = state
    if trace:
        out["__trace__"] = {(n.layer.name if n.call_index == 0 else f"{n.layer.name}#{n.call_index}"):
                            [values[t] for t in n.outputs] for n in model.nodes}
    return out
