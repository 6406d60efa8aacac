"""The NumPy optimizers against real Keras optimizers, step for step."""

from __future__ import annotations

import numpy as np
import pytest
from spec2net.backends.numpy.optimizers import Optimizer

from spec2net import ir
from spec2net.registry import REGISTRIES, canonical


def _ref(name, **kw):
    entry = REGISTRIES["optimizer"][name]
    args = {a.name: a.default for a in entry.args}
    args.update(kw)
    return ir.Ref("optimizer", entry.name, tuple(args.items()))


CASES = [
    ("sgd", {}),
    ("sgd", {"momentum": 0.9}),
    ("sgd", {"momentum": 0.9, "nesterov": True, "clipnorm": 0.5}),
    ("adam", {}),
    ("adam", {"amsgrad": True, "clipnorm": 0.3}),
    ("adamw", {"weight_decay": 0.05}),
    ("rmsprop", {"global_clipnorm": 0.4}),
    ("rmsprop", {"centered": True, "momentum": 0.5}),
    ("adagrad", {"clipvalue": 0.05}),
    ("adagrad", {"initial_accumulator_value": 0.5, "learning_rate": 0.1}),
    # language 0.2's (weight decay, EMA and schedules: test_optimizers_keras.py)
    ("adadelta", {"learning_rate": 1.0, "clipnorm": 0.5}),
    ("adamax", {"beta_1": 0.8}),
    ("nadam", {"beta_2": 0.9}),
    ("lion", {"beta_2": 0.5}),
    ("ftrl", {"l1_regularization_strength": 0.001}),
]


@pytest.mark.parametrize("name,kw", CASES, ids=[f"{n}-{'-'.join(k) or 'default'}" for n, k in CASES])
def test_optimizer_matches_keras(keras, name, kw):
    rng = np.random.default_rng(0)
    shapes = {"a/kernel": (3, 4), "a/bias": (4,), "b/kernel": (4, 2)}
    start = {k: rng.normal(size=s).astype(np.float32) for k, s in shapes.items()}
    steps = [{k: rng.normal(size=s).astype(np.float32) for k, s in shapes.items()} for _ in range(5)]

    kcls = getattr(keras.optimizers, REGISTRIES["optimizer"][name].keras_name)
    kopt = kcls(**{k: v for k, v in _ref(name, **kw).kwargs.items() if v is not None})
    kvars = {k: keras.Variable(v.copy()) for k, v in start.items()}
    ours = Optimizer(_ref(name, **kw))
    weights = dict(start)
    for grads in steps:
        kopt.apply_gradients([(grads[k], kvars[k]) for k in shapes])
        weights = ours.apply(weights, grads)
    worst = max(float(np.max(np.abs(weights[k] - np.asarray(kvars[k])))) for k in shapes)
    moved = max(float(np.max(np.abs(weights[k] - start[k]))) for k in shapes)
    assert moved > 1e-4, "the optimizer did not move the weights"
    assert worst <= 1e-6, f"{name} {kw}: max |numpy - keras| = {worst:.3g}"


def test_every_registered_optimizer_is_compared():
    assert {name for name, _ in CASES} == set(canonical("optimizer"))
