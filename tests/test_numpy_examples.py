"""Every example through the NumPy interpreter and through its hand-written Keras twin
(tests/keras_twins.py) with one weights dict: ``model.predict`` at inference and
``model(x, training=True)`` where training mode is deterministic (no active Dropout)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import EXAMPLES
from numpy_keras_helpers import DiffTable, max_diff
from spec2net.backends import numpy as nb

import spec2net
from spec2net.equiv import perturbed_weights
from spec2net.registry import LAYERS, deterministic

DIFFS = DiffTable()
TOL = 1e-5


@pytest.fixture(scope="module", autouse=True)
def _report(request):
    yield
    DIFFS.report(request.config, "NumPy interpreter vs the Keras twins, worst |diff| per example:")


def _inputs(model, batch=6, seed=3) -> dict:
    rng = np.random.default_rng(seed)
    vocab = min((layer.args["input_dim"] for layer in model.layers if layer.type == "Embedding"), default=10)
    out = {}
    for t in model.inputs:
        shape = (batch, *(7 if d is None else d for d in t.type.shape))
        if t.type.is_float:
            out[t.input_name] = rng.standard_normal(shape).astype(np.float32)
        else:
            ids = rng.integers(1, vocab, shape)
            # padding (id 0) at the end of some rows and the start of others, for mask_zero
            ids[0, shape[1] // 2:] = 0
            ids[1, :shape[1] // 3] = 0
            out[t.input_name] = ids.astype(t.type.dtype)
    return out


def _tolerance(model) -> float:
    # one recurrence stays within 1e-5 of its twin; stacked ones compound rounding, so they take
    # the registry's wider tolerance
    wide = [LAYERS[layer.type].tolerance for layer in model.layers if LAYERS[layer.type].tolerance > TOL]
    return max(wide) if len(wide) > 1 else TOL


@pytest.fixture(scope="module")
def twins(keras):
    return pytest.importorskip("keras_twins")


def _has_dropout(path) -> bool:
    return not all(deterministic(LAYERS[layer.type], layer.args) for layer in spec2net.load(path).ir.layers)


# Training mode is compared only where it is deterministic: Dropout draws random masks
# (tests/test_numpy_layers.py checks it statistically).
CASES = [(p, False) for p in EXAMPLES] + [(p, True) for p in EXAMPLES if not _has_dropout(p)]


@pytest.mark.parametrize("path,training", CASES,
                         ids=[f"{p.stem}-{'training' if t else 'predict'}" for p, t in CASES])
def test_example_matches_keras(twins, path, training):
    net = spec2net.load(path)
    model = twins.build_twin(path.stem)
    weights = perturbed_weights(net.ir, seed=7)
    twins.set_weights(model, weights)  # raises unless every key and shape matches
    x = _inputs(net.ir)
    xs = [x[name] for name in net.input_names]
    xs = xs if len(xs) > 1 else xs[0]  # a one-input model takes the bare array
    if training:
        want = model(xs, training=True)
    else:
        want = model.predict(xs, batch_size=6, verbose=0)
    want = list(want) if isinstance(want, (list, tuple)) else [want]
    got = nb.run(net.ir, x, weights, training=training, seed=0)
    tol = _tolerance(net.ir)
    for name, w in zip(net.output_names, want):
        d = max_diff(got[name], w)
        DIFFS.add(f"{path.stem} ({'training' if training else 'predict'})", d)
        assert d <= tol, f"{path.stem} output {name}: max |diff| {d:.3g} > {tol}"
    if training:
        after = twins.get_weights(model)
        for key, value in got["__state__"].items():
            assert max_diff(value, after[key]) <= 1e-6, key
        assert set(got["__state__"]) == {k for k in after if k.endswith(("moving_mean", "moving_variance"))}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_init_weights_fit_keras(twins, path):
    """init_weights gives exactly the twin's keys and shapes, and the bytes repeat with the seed."""
    net = spec2net.load(path)
    w = nb.init_weights(net.ir, seed=5)
    theirs = twins.get_weights(twins.build_twin(path.stem))
    assert {k: v.shape for k, v in w.items()} == {k: v.shape for k, v in theirs.items()}
    assert all(v.dtype == np.float32 for v in w.values())
    again = nb.init_weights(net.ir, seed=5)
    assert all(np.array_equal(w[k], again[k]) for k in w)
