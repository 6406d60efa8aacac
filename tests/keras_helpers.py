"""Helpers for the tests of the generated Keras module: importing it, and the example weights,
inputs and targets that the Keras tests feed it and the twins."""

from __future__ import annotations

import importlib.util

import numpy as np
from numpy_keras_helpers import random_inputs
from registry_samples import random_targets

from spec2net import equiv


def load_module(source: str, path, name="generated"):
    """Import generated source from a file, as a user would."""
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(f"{name}_{abs(hash(str(path)))}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def save_npz(path, weights):
    np.savez(path, **weights)
    return path


def positional(values: dict, names: list):
    """A twin's inputs or targets: the one array, or a list in the spec's order."""
    return values[names[0]] if len(names) == 1 else [values[n] for n in names]


def by_name(result, net) -> dict:
    """A generated model's outputs keyed by the spec's names: a dict for one output, a list in the
    spec's order for several."""
    if isinstance(result, dict):
        assert list(result) == net.output_names
        return result
    assert len(result) == len(net.output_names)
    return dict(zip(net.output_names, result))


def tolerance(net) -> float:
    return equiv.tolerance(net.ir)  # the registry's, per layer type


def example_weights(net, seed):
    """The spec's own initial weights, nudged so zero biases and unit statistics are exercised.

    (random_weights' N(0, 0.5) makes a 100-step SimpleRNN chaotic: float rounding alone then
    moves spam's output by 0.1, which would test the weather, not the backend.)
    """
    from spec2net.backends.numpy import init_weights

    rng = np.random.default_rng(seed)
    out = {}
    for key, value in init_weights(net.ir, seed).items():
        if key.endswith("moving_variance"):
            out[key] = rng.uniform(0.5, 1.5, value.shape).astype(np.float32)
        else:
            out[key] = (value + 0.05 * rng.standard_normal(value.shape)).astype(np.float32)
    return out


def example_inputs(net, n=6, seed=1):
    vocab = min((layer.args["input_dim"] for layer in net.ir.layers if layer.type == "Embedding"), default=10)
    return random_inputs(net.ir, batch=n, seed=seed, vocab=vocab, steps=7)


def example_targets(net, outputs, seed=2):
    """Targets that fit each output's loss (the registry's ``target``), as float32 or int32 arrays."""
    out = random_targets(net.ir, outputs, np.random.default_rng(seed))
    return {k: v.astype(np.int32 if v.dtype.kind == "i" else np.float32) for k, v in out.items()}
