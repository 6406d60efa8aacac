"""Test cases from the registry, for every backend's suite: a layer is tested everywhere by
being registered with ``samples``, a loss with its ``target``, and no test file keeps its own
list of layer types, losses or tolerances.

``layer_samples()`` gives ``pytest.param(layer_type, args, inputs, id="Dense-0")`` for each
sample of each registered layer (``args`` as the sample writes them, ``inputs`` a list of
``(dtype, per-sample shape)``); its filters keep the cases a test can run.
"""

from __future__ import annotations

import numpy as np
import pytest

from spec2net.registry import REGISTRIES, canonical_layers, deterministic


def _filled(layer_type: str, args: dict) -> dict:
    """The sample's arguments with the registry's defaults, as the checker fills them."""
    defn = canonical_layers()[layer_type]
    return {**{a.name: a.default for a in defn.args}, **args}


def layer_samples(types=None, deterministic_only=False) -> list:
    """Every registered layer's samples as pytest params, in registration order.

    ``types`` keeps only those layer types; ``deterministic_only`` drops the samples whose training
    mode draws random numbers (a dropout rate above 0, per the registry's ``dropout_args``).

    >>> [p.id for p in layer_samples(types={"Dense"})]
    ['Dense-0', 'Dense-1', 'Dense-2']
    """
    out = []
    for name, defn in canonical_layers().items():
        if types is not None and name not in types:
            continue
        for i, (args, inputs) in enumerate(defn.samples):
            if deterministic_only and not deterministic(defn, _filled(name, args)):
                continue
            out.append(pytest.param(name, args, inputs, id=f"{name}-{i}"))
    return out


def random_targets(model, predictions: dict, rng: np.random.Generator) -> dict:
    """Targets of the kind each output's loss reads (the registry's ``target``), shaped like the
    predictions: class ids (one per sample and step), one-hot rows, 0/1 values or real numbers."""
    out = {}
    for o in model.outputs:
        shape = np.shape(predictions[o.name])
        target = REGISTRIES["loss"][model.compile.loss[o.name].name].target
        if target == "class_ids":
            out[o.name] = rng.integers(0, shape[-1], size=(*shape[:-1], 1))
        elif target == "one_hot":
            out[o.name] = np.eye(shape[-1])[rng.integers(0, shape[-1], size=shape[:-1])]
        elif target == "binary":
            out[o.name] = (rng.random(shape) > 0.5).astype(np.float64)
        else:
            out[o.name] = rng.normal(size=shape)
    return out
